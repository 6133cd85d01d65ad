"""Opening the journal the settings name: the one place that reads EVENT_ROUTER_JOURNAL's kind.

Absent, it is the SQLite file `<home>/journal.db`; `redis://`, `rediss://` or `unix://`, a Redis
stream; `kafka://`, a Kafka topic with its state in the control plane (closed with the journal).
The router, `status`, `consumers rewind` and `learners forget` all open it here, so they agree
on what it is and say the same when it cannot be opened (`JournalUnopened`; the CLI turns it
into its usual error).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypeAlias

from event_router.journal.entry import JournalFull
from event_router.journal.sqlite import SqliteJournal
from event_router.settings import Settings

if TYPE_CHECKING:  # Redis and Kafka clients are imported only when their journal is named
    from event_router.journal.kafka import KafkaJournal
    from event_router.journal.redis import RedisJournal

Kind = Literal["sqlite", "redis", "kafka"]
OpenJournal: TypeAlias = "SqliteJournal | RedisJournal | KafkaJournal"


class JournalUnopened(Exception):
    """The journal the settings name cannot be opened: unreachable, a bad URL, or (`missing`)
    no SQLite journal in the home when an existing one was asked for."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


def journal_kind(config: Settings) -> Kind:
    """Which journal the settings name (the URL was checked when the settings were read)."""
    url = config.journal_url or ""
    if not url:
        return "sqlite"
    return "kafka" if url.startswith("kafka://") else "redis"


def open_journal(config: Settings, *, existing: bool = True) -> OpenJournal:
    """The journal the settings name, open. `existing`: a SQLite journal must already be in the
    home (a command that reads it), rather than be created (the router)."""
    kind = journal_kind(config)
    if kind == "kafka":
        return _kafka(config)
    if kind == "redis":
        from event_router.journal.redis import RedisJournal

        try:
            return RedisJournal(config.journal_url or "", config.journal_prefix)
        except JournalFull as exc:
            raise JournalUnopened(str(exc)) from None
    path = config.home / "journal.db"
    if existing and not path.exists():
        missing = f"no journal in {config.home} (has the router run here?)"
        raise JournalUnopened(missing, missing=True)
    return SqliteJournal(path, synchronous=config.journal_sync)


def _kafka(config: Settings) -> KafkaJournal:
    from event_router.journal.kafka import KafkaJournal
    from event_router.journal.kafka_state import JournalState
    from event_router.kafka.settings import KafkaSettings
    from event_router.store.database import database_url

    state = JournalState(database_url(config))
    try:
        return KafkaJournal(
            config.journal_url or "",
            state,
            KafkaSettings(),
            partitions=config.journal_partitions,
            key=config.journal_key,
            retention=config.retention_hours * 3600,
        )
    except (JournalFull, ValueError) as exc:
        state.close()
        raise JournalUnopened(str(exc)) from None
