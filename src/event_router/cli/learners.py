"""`event-router learners forget`: the user-retirement pipeline's call into the router."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from event_router.cli import app
from event_router.cli.control_plane import open_store, store_errors
from event_router.cli.journal import journal_if_any
from event_router.cli.options import HOME, settings
from event_router.cli.output import fail
from event_router.privacy.forget import ForgetError, Learner, forget

learners_app = typer.Typer(no_args_is_help=True, help="Learners' privacy (docs/privacy.md).")
app.add_typer(learners_app, name="learners")


@learners_app.command("forget")
def forget_learner(
    user_id: Annotated[
        str | None, typer.Option("--user-id", help="The learner's LMS user id.")
    ] = None,
    username: Annotated[
        str | None,
        typer.Option("--username", help="Their username (give both: events may carry either)."),
    ] = None,
    home: Annotated[Path | None, HOME] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Forget a learner: their imported identities and dead letters are removed, their events
    in the journal redacted (SQLite) or deleted (Redis), and their later events dropped at
    ingest. Statements already delivered are not recalled: see docs/privacy.md.

    With a router running on this home, prefer POST /api/v1/learners/forget: the router then
    also forgets its in-memory copies at once (here it does within a second or two)."""
    try:
        learner = Learner.of(user_id, username)
    except ForgetError as exc:
        fail(str(exc), 2)
    config = settings(home)
    with store_errors(), open_store(home) as store, journal_if_any(config) as journal:
        done = forget(store, journal, config.resolved_secret(), learner)
    if as_json:
        typer.echo(orjson.dumps(done).decode())
        return
    control, events = done["control_plane"], done["journal"]
    typer.echo(
        f"control plane: {control['identities']} identity row(s) and {control['dead_letters']} "
        f"dead letter(s) removed, {control['retired_keys']} key(s) added to the retired list"
    )
    if events["kind"] is None:
        typer.echo("journal: none in this home yet")
    else:
        typer.echo(f"journal ({events['kind']}): {events['events']} event(s) {events['action']}")
