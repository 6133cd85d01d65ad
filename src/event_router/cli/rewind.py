"""`event-router consumers rewind`: send a consumer again what the journal still holds since a time.

For an LRS restored from an old backup, a consumer whose endpoint lost data, or a dashboard that
must be rebuilt. Statement and Caliper event ids are deterministic, so what the endpoint already
has is a duplicate it ignores. Only what the journal keeps can be re-sent (the retention window,
EVENT_ROUTER_RETENTION_HOURS); older history comes back with `event-router backfill`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from event_router.cli.consumers import consumers_app
from event_router.cli.control_plane import open_store, store_errors
from event_router.cli.options import HOME, settings
from event_router.cli.output import fail
from event_router.cli.scaleout import is_kafka, open_kafka_journal
from event_router.delivery.rewind import RewindError, since_time
from event_router.delivery.rewind import rewind as rewind_consumer
from event_router.journal import Journal, JournalFull, SqliteJournal
from event_router.journal.redis import RedisJournal
from event_router.settings import Settings


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`2h`, `30m`, `90s`, `7d` ago, or an ISO 8601 time (UTC when it has no offset)."""
    try:
        return since_time(text, now)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--since") from None


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
        journal = _open_journal(config)
        try:
            done = rewind_consumer(store, journal, name, moment)
        except RewindError as exc:
            fail(str(exc))
        finally:
            journal.close()
    typer.echo(done.message)
    if done.note:
        typer.echo(f"note: {done.note}", err=True)


def _open_journal(config: Settings) -> Journal:
    if is_kafka(config):
        return open_kafka_journal(config)
    if config.journal_url:
        try:
            return RedisJournal(config.journal_url or "", config.journal_prefix)
        except JournalFull as exc:
            raise typer.BadParameter(str(exc), param_hint="EVENT_ROUTER_JOURNAL") from None
    path = config.home / "journal.db"
    if not path.exists():
        fail(f"no journal in {config.home} (has the router run here?)")
    return SqliteJournal(path)
