"""Rewinding a consumer: send it again what the journal holds since a time.

The one place a rewind is asked for, from the CLI (`consumers rewind`) and the UI alike, and so
the one place it is written to the audit log. On a SQLite journal the rewind is a request the
running router carries out between two batches (or a router started later, before delivering);
in scale-out on Redis the consumer group's last-delivered id moves back at once; on Kafka a request
is left in the control plane and each running router moves its partitions to Kafka's offsets for
that time (a router started within `REWIND_WINDOW` seconds too). SQLite's requests are kept
in the journal's file (`RewindRequests`).
"""

from __future__ import annotations

import re
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from event_router.journal import Journal, SqliteJournal
from event_router.journal.kafka import KafkaJournal
from event_router.journal.redis import RedisJournal
from event_router.store import Store

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def since_time(text: str, now: datetime | None = None) -> datetime:
    """`2h`, `30m`, `90s`, `7d` ago, or an ISO 8601 time (UTC when it has no offset);
    ValueError saying why for anything else, or a time in the future."""
    now = now or datetime.now(UTC)
    relative = _RELATIVE.match(text)
    if relative:
        try:
            return now - timedelta(**{_UNITS[relative[2]]: float(relative[1])})
        except OverflowError:  # before year 1: nothing is that old anyway
            return datetime.min.replace(tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a duration (90s, 30m, 2h, 7d) nor an ISO 8601 time"
        ) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if moment > now:
        raise ValueError(f"{text!r} is in the future")
    return moment


class RewindRequests:
    """The rewinds asked for on a SQLite journal and not done yet: its `rewinds` table (created
    with the journal's schema), a seq per consumer."""

    def __init__(self, journal: SqliteJournal) -> None:
        self.journal = journal

    def request(self, consumer: str, seq: int) -> None:
        """Ask the router to move `consumer`'s cursor back to `seq`. The running router does
        it between two batches (a cursor moved under a running delivery would be moved forward
        again by its next acknowledgement); a router started later does it before delivering."""
        with closing(self.journal.connect()) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO rewinds (consumer, seq, requested_at) VALUES (?,?,?)",
                (consumer, seq, time.time()),
            )

    def pending(self) -> dict[str, int]:
        """The rewinds asked for and not done yet, by consumer."""
        return dict(self.journal.query("SELECT consumer, seq FROM rewinds"))

    def apply(self, consumer: str) -> int | None:
        """Move the cursor to the requested seq (back, unlike a delivery's moves) and forget
        the request, in one transaction; the new cursor, or None if nothing was asked."""
        with closing(self.journal.connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute("SELECT seq FROM rewinds WHERE consumer = ?", (consumer,))
            found = row.fetchone()
            if found is not None:
                conn.execute(
                    "INSERT INTO cursors (consumer, seq, updated_at) VALUES (?,?,?) "
                    "ON CONFLICT(consumer) DO UPDATE SET seq=excluded.seq, "
                    "updated_at=excluded.updated_at",
                    (consumer, found[0], time.time()),
                )
                conn.execute("DELETE FROM rewinds WHERE consumer = ?", (consumer,))
            conn.execute("COMMIT")
            return None if found is None else int(found[0])


class RewindError(Exception):
    """The rewind cannot be done (said plainly to the operator)."""


@dataclass(frozen=True, slots=True)
class Rewound:
    """What a rewind did: a sentence for the operator, how many events will be sent again (None
    when the journal cannot count them), and a note when the journal no longer holds them all."""

    message: str
    events: int | None
    note: str | None = None


def rewind(store: Store, journal: Journal, name: str, moment: datetime) -> Rewound:
    """Rewind consumer `name` to `moment`; UnknownConsumer if there is none, RewindError if the
    journal cannot (a scale-out consumer no router has delivered to yet)."""
    store.consumers.get(name)  # an unknown consumer is an error, said plainly
    since = moment.isoformat(timespec="seconds")
    if isinstance(journal, RedisJournal):
        groups, _ = journal.cluster()
        if name not in groups:
            raise RewindError(f"{name} has no consumer group yet (no router has delivered to it)")
        last = journal.rewind_group(name, moment.timestamp())
        store.audit.record("consumer.rewind", name, since=since)
        return Rewound(
            f"{name}: the group reads again from after entry {last} "
            f"(events accepted since {since})",
            None,
        )
    if isinstance(journal, KafkaJournal):
        from event_router.delivery.partition_readers import REWIND_WINDOW

        journal.state.put([("rewind", name, repr(moment.timestamp()))])
        store.audit.record("consumer.rewind", name, since=since)
        return Rewound(
            f"{name}: events accepted since {since} will be sent again by the running routers "
            f"within seconds (a router started in the next {REWIND_WINDOW:.0f} s too)",
            None,
        )
    if not isinstance(journal, SqliteJournal):
        raise RewindError(f"a {type(journal).__name__} cannot be rewound")
    seq = journal.seq_before(moment.timestamp())
    cursor = journal.cursor(name)
    if cursor is not None and cursor <= seq:
        return Rewound(
            f"{name} has not yet received what came after {since}: nothing to send again", 0
        )
    RewindRequests(journal).request(name, seq)
    again = journal.head - seq if cursor is None else cursor - seq
    store.audit.record("consumer.rewind", name, since=since, events=again)
    count, _ = journal.size()
    oldest = journal.head - count + 1
    note = None
    if count and seq < oldest - 1:
        note = (
            f"the journal holds events from seq {oldest} on (retention window); "
            "older ones come back with `event-router backfill`"
        )
    return Rewound(
        f"{name}: {again} events accepted since {since} will be sent again "
        "(by a running router within seconds, by a stopped one when it runs)",
        again,
        note,
    )
