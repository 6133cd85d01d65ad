"""The `event-router` command line."""

from __future__ import annotations

import gc
import sys

import typer

from event_router import __version__

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Open edX Event Router: tracking events in, xAPI / Caliper out, durably and in real time.",
    rich_markup_mode=None,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"event-router {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Open edX Event Router."""
    from event_router.actor import cli_actor, set_actor

    set_actor(cli_actor(), "cli")  # what this command changes is logged as done from the shell


# Command → module that registers it. Only the module of the command being run is imported, so
# `transform` does not pay for the web server's or the database's imports.
_COMMANDS = {
    "run": "run",
    "status": "status",
    "transform": "transform",
    "consumers": "consumers",
    "dead-letters": "dead_letters",
    "identities": "identities",
    "courses": "identities",
    "generate": "generate",
    "backfill": "backfill",
    "users": "users",
    "tokens": "users",
    "learners": "learners",
    "secret-key": "secret_key",
    "plugins": "plugins",
    "audit": "audit",
}


def _register(argv: list[str] | None = None) -> None:
    import importlib

    args = sys.argv[1:] if argv is None else argv
    wanted = next((arg for arg in args if not arg.startswith("-")), None)
    modules = {_COMMANDS[wanted]} if wanted in _COMMANDS else set(_COMMANDS.values())
    for module in sorted(modules):
        importlib.import_module(f"event_router.cli.{module}")


def main() -> None:
    # The router allocates many short-lived dicts per event; the default thresholds run the cyclic
    # collector every 700 allocations, which costs a third of the parse time. Collect young
    # objects less often, but keep full collections coming: with them made rare (an earlier
    # setting), cyclic garbage piled up at ~1 KB per delivered event.
    gc.set_threshold(20_000, 10, 10)
    _register()
    from event_router.journal.schema import JournalVersionError
    from event_router.secret_key import SecretKeyMismatch

    try:
        app()
    except (JournalVersionError, SecretKeyMismatch) as exc:  # say so plainly, no traceback
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
