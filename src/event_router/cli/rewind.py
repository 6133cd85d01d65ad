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
from event_router.cli.journal import opened_journal
from event_router.cli.options import HOME, settings
from event_router.cli.output import fail
from event_router.delivery.rewind import RewindError, since_time
from event_router.delivery.rewind import rewind as rewind_consumer


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
        with opened_journal(config) as journal:
            try:
                done = rewind_consumer(store, journal, name, moment)
            except RewindError as exc:
                fail(str(exc))
    typer.echo(done.message)
    if done.note:
        typer.echo(f"note: {done.note}", err=True)
