"""`event-router status`: how every consumer's delivery is doing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from event_router.cli import app
from event_router.cli.options import HOME, settings
from event_router.journal import SqliteJournal
from event_router.store import Store


def collect(home: Path | None = None) -> dict[str, Any]:
    """Status from the home: journal, cursors and the running router's last snapshots."""
    config = settings(home)
    journal_path = config.home / "journal.db"
    if not journal_path.exists():
        raise typer.BadParameter(f"no journal in {config.home} (has the router run here?)")
    journal = SqliteJournal(journal_path)
    store = Store.open(config.database_url or f"sqlite:///{config.home / 'control.db'}")
    try:
        snapshots = journal.read_status()
        cursors = journal.cursors()
        count, size = journal.size()
        consumers: dict[str, Any] = {}
        for consumer in store.list_consumers():
            raw = snapshots.get(consumer.name)
            snap = orjson.loads(raw[0]) if raw else {}
            cursor = cursors.get(consumer.name)
            consumers[consumer.name] = {
                "enabled": consumer.enabled,
                "state": snap.get("state", "not started") if consumer.enabled else "disabled",
                "delivered": snap.get("delivered", 0),
                "pending": journal.pending(cursor) if cursor is not None else None,
                "in_flight": snap.get("in_flight", 0),
                "dead_letters": store.dead_letters.count(consumer=consumer.name, state="dead"),
                "last_error": snap.get("last_error"),
                "last_error_at": snap.get("last_error_at"),
                "latency_ms": snap.get("latency_ms"),
                "snapshot_age_s": round(time.time() - raw[1], 1) if raw else None,
            }
        return {
            "journal": {"head": journal.head, "events": count, "bytes": size},
            "sources": journal.positions(),
            "consumers": consumers,
        }
    finally:
        journal.close()
        store.close()


@app.command()
def status(
    home: Annotated[Path | None, HOME] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Per consumer: delivered, pending (lag), in flight, dead letters, last error, state."""
    report = collect(home)
    if as_json:
        typer.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
        return
    table = Table(
        title=f"journal: {report['journal']['events']} events, head {report['journal']['head']}"
    )
    for column in ("consumer", "state", "delivered", "pending", "in flight", "dead", "last error"):
        table.add_column(column)
    for name, row in report["consumers"].items():
        error = row["last_error"] or ""
        if error and row["last_error_at"]:
            error = f"{time.strftime('%H:%M:%S', time.localtime(row['last_error_at']))} {error}"
        table.add_row(
            name,
            row["state"],
            str(row["delivered"]),
            "?" if row["pending"] is None else str(row["pending"]),
            str(row["in_flight"]),
            str(row["dead_letters"]),
            error[:80],
        )
    if not report["consumers"]:
        typer.echo("no consumers yet: add one with `event-router consumers add`")
        return
    Console().print(table)
