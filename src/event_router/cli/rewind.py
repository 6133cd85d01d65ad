"""`event-router consumers rewind`: send a consumer again what the journal still holds since a time.

For an LRS restored from an old backup, a consumer whose endpoint lost data, or a dashboard that
must be rebuilt. Statement and Caliper event ids are deterministic, so what the endpoint already
has is a duplicate it ignores. Only what the journal keeps can be re-sent (the retention window,
EVENT_ROUTER_RETENTION_HOURS); older history comes back with `event-router backfill`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from event_router.cli.consumers import consumers_app, fail, open_store, store_errors
from event_router.cli.options import HOME, settings
from event_router.journal import JournalFull, SqliteJournal
from event_router.journal.redis import RedisJournal
from event_router.settings import Settings

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`2h`, `30m`, `90s`, `7d` ago, or an ISO 8601 time (UTC when it has no offset)."""
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
        raise typer.BadParameter(
            f"{text!r} is neither a duration (90s, 30m, 2h, 7d) nor an ISO 8601 time",
            param_hint="--since",
        ) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if moment > now:
        raise typer.BadParameter(f"{text!r} is in the future", param_hint="--since")
    return moment


@consumers_app.command()
def rewind(
    name: Annotated[str, typer.Argument(help="Consumer name.")],
    since: Annotated[
        str,
        typer.Option(help="Send again what was accepted since: 2h, 30m, 7d or an ISO 8601 time."),
    ],
    home: Annotated[Path | None, HOME] = None,
) -> None:
    """Send a consumer again every event the journal holds since a time (a running router
    does it within seconds; the endpoint ignores what it already has: ids are deterministic)."""
    moment = parse_since(since)
    config = settings(home)
    with store_errors(), open_store(home) as store:
        store.consumers.get(name)  # an unknown consumer is an error, said plainly
    if (config.journal_url or "").startswith("kafka://"):
        _rewind_partitions(config, name, moment)
    elif config.journal_url:
        _rewind_group(config, name, moment)
    else:
        _rewind_cursor(config, name, moment)


def _rewind_cursor(config: Settings, name: str, moment: datetime) -> None:
    path = config.home / "journal.db"
    if not path.exists():
        fail(f"no journal in {config.home} (has the router run here?)")
    journal = SqliteJournal(path)
    try:
        seq = journal.seq_before(moment.timestamp())
        cursor = journal.cursor(name)
        if cursor is not None and cursor <= seq:
            typer.echo(f"{name} has not yet received what came after {moment.isoformat()}: "
                       "nothing to send again")  # fmt: skip
            return
        journal.request_rewind(name, seq)
        count, _ = journal.size()
        again = journal.head - seq if cursor is None else cursor - seq
        typer.echo(
            f"{name}: {again} events accepted since {moment.isoformat()} will be sent again "
            "(by a running router within seconds, by a stopped one when it runs)"
        )
        oldest = journal.head - count + 1
        if count and seq < oldest - 1:
            typer.echo(
                f"note: the journal holds events from seq {oldest} on (retention window); "
                "older ones come back with `event-router backfill`",
                err=True,
            )
    finally:
        journal.close()


def _rewind_group(config: Settings, name: str, moment: datetime) -> None:
    """Scale-out: move the consumer group's last-delivered id back; its members read on from
    there at once (entries a member holds unacknowledged are unaffected)."""
    try:
        journal = RedisJournal(config.journal_url or "", config.journal_prefix)
    except JournalFull as exc:
        raise typer.BadParameter(str(exc), param_hint="EVENT_ROUTER_JOURNAL") from None
    try:
        groups, _ = journal.cluster()
        if name not in groups:
            fail(f"{name} has no consumer group yet (no router has delivered to it)")
        last = journal.rewind_group(name, moment.timestamp())
        typer.echo(f"{name}: the group reads again from after entry {last} "
                   f"(events accepted since {moment.isoformat()})")  # fmt: skip
    finally:
        journal.close()


def _rewind_partitions(config: Settings, name: str, moment: datetime) -> None:
    """Kafka journal: leave a request in the control plane; each running router stops the
    consumer's delivery and starts its partitions again at Kafka's offsets for that time."""
    from event_router.delivery.partition_readers import REWIND_WINDOW
    from event_router.journal.kafka_state import JournalState
    from event_router.store.database import database_url

    state = JournalState(database_url(config))
    try:
        state.put([("rewind", name, repr(moment.timestamp()))])
    finally:
        state.close()
    typer.echo(
        f"{name}: events accepted since {moment.isoformat()} will be sent again by the running "
        f"routers within seconds (a router started in the next {REWIND_WINDOW:.0f} s too)"
    )
