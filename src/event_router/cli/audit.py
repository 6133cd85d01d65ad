"""`event-router audit`: who changed, replayed, rewound or forgot what, and when."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from event_router.cli import app
from event_router.cli.control_plane import open_store, store_errors
from event_router.cli.options import HOME
from event_router.cli.output import console
from event_router.store.audit import describe


@app.command()
def audit(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many entries.")] = 50,
    actor: Annotated[str | None, typer.Option(help="Only this actor's entries.")] = None,
    action: Annotated[
        str | None, typer.Option(help="Only actions starting with this: consumer, user.role, …")
    ] = None,
    target: Annotated[str | None, typer.Option(help="Only entries about this target.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    home: Annotated[Path | None, HOME] = None,
) -> None:
    """The audit log, newest first: every change made through the UI, the API or the CLI (users,
    tokens, consumers, configuration imports, dead-letter replays, rewinds, forgotten learners).
    Field names are logged, never their values: no secret is ever in it."""
    with store_errors(), open_store(home, secrets=False) as store:
        entries, total = store.audit.list(limit=limit, actor=actor, action=action, target=target)
    if as_json:
        payload = {"entries": [entry.to_json() for entry in entries], "total": total}
        typer.echo(json.dumps(payload, indent=2))
        return
    if not entries:
        typer.echo("no entries")
        return
    table = Table("when (UTC)", "who", "via", "action", "target", "detail")
    for entry in entries:
        when = entry.at.strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(when, entry.actor, entry.via, entry.action, entry.target, describe(entry))
    console().print(table)
    if total > len(entries):
        typer.echo(f"{len(entries)} of {total} entries (use --limit for more)")
