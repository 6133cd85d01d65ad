"""`event-router plugins list`: the installed plugins (translators and hooks) and their state."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from event_router.cli import app

if TYPE_CHECKING:
    from event_router.plugins.loader import Plugin

plugins_app = typer.Typer(
    no_args_is_help=True,
    help="Installed plugins: entry points event_router.translators and event_router.hooks.",
)
app.add_typer(plugins_app, name="plugins")


@plugins_app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """Each plugin: name, kind, entry point, package and version, the events it translates (a
    translator) or its steps (a hook), and why it could not be loaded, if so."""
    from event_router.plugins.loader import installed

    plugins = installed()
    rows: list[dict[str, Any]] = [
        {
            "name": p.name,
            "kind": p.kind,
            "entry_point": p.entry_point,
            "package": p.package,
            "version": p.version,
            "events": p.events,
            "stages": list(p.stages),
            "protocols": _protocols(p),
            "error": p.error,
        }
        for p in plugins
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no plugins installed (see docs/plugins.md)", err=True)
        return
    table = Table("name", "kind", "entry point", "package", "version", "events / steps")
    for row in rows:
        what = ", ".join(row["events"] or row["stages"])
        if row["protocols"]:
            what += f" ({', '.join(row['protocols'])})"
        if row["error"]:
            what = f"NOT LOADED: {row['error']}"
        table.add_row(
            row["name"], row["kind"], row["entry_point"], row["package"], row["version"], what
        )
    Console(width=200).print(table)


def _protocols(plugin: Plugin) -> list[str]:
    """The outputs a translator translates to, or a hook's after step changes."""
    if plugin.translations:
        found = ("xapi", "caliper")
        return [p for p in found if any(getattr(t, p) for t in plugin.translations)]
    hook = plugin.hook
    return list(hook.protocols) if hook is not None and hook.after is not None else []
