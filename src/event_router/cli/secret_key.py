"""`event-router secret-key …`: change the router's secret key on purpose, or accept a new one.

See `event_router.secret_key` for what derives from the key and why a change is refused unless
the operator asks for it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from event_router.cli import app
from event_router.cli.control_plane import store_errors
from event_router.cli.options import HOME, settings
from event_router.cli.output import fail
from event_router.secret_key import (
    KEY_FILE,
    NEW_KEY_FILE,
    fingerprint,
    new_key,
    record,
    write_private,
)
from event_router.store import Store
from event_router.store.database import database_url

NEW_KEY_ENV = "EVENT_ROUTER_NEW_SECRET_KEY"

secret_key_app = typer.Typer(
    no_args_is_help=True,
    help="The secret key that anonymous ids, sessions and encrypted consumer secrets derive from.",
)
app.add_typer(secret_key_app, name="secret-key")

_CONSEQUENCES = (
    "A new secret key changes every anonymous learner id not imported from the LMS (so the LRS "
    "sees new actors and new statement ids from now on) and signs everyone out of the web UI."
)


@secret_key_app.command()
def rotate(
    home: Annotated[Path | None, HOME] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Replace the secret key and re-encrypt every consumer's secrets with it, in one transaction.

    With a key file in the home (EVENT_ROUTER_SECRET_KEY unset) a new key is generated and
    replaces the file. With EVENT_ROUTER_SECRET_KEY set, give the new key in
    EVENT_ROUTER_NEW_SECRET_KEY, then set EVENT_ROUTER_SECRET_KEY to it for every router process
    (all those sharing the control plane) and restart them. Stop the routers first. A rotation
    cut short is finished by running the command again.
    """
    config = settings(home)
    old = config.resolved_secret()
    from_env = config.secret_key is not None
    pending = config.home / NEW_KEY_FILE
    if from_env:
        new = os.environ.get(NEW_KEY_ENV, "").strip()
        if not new:
            fail(
                f"EVENT_ROUTER_SECRET_KEY is set, so the new key must come from you: set "
                f"{NEW_KEY_ENV} to it (e.g. the output of `openssl rand -base64 32`)"
            )
    else:
        new = pending.read_text(encoding="utf-8").strip() if pending.exists() else ""
        if not new:
            new = new_key()
    if new == old:
        fail("the new key is the current key")
    if not yes:
        typer.confirm(f"{_CONSEQUENCES} Rotate the secret key?", abort=True)
    if not from_env:
        write_private(pending, new + "\n")  # first, so a rotation cut short can be finished
    with store_errors(), Store.open(database_url(config), old) as store:
        changed = store.reencrypt(new)
    if not from_env:
        os.replace(pending, config.home / KEY_FILE)
    record(config.home, new)
    typer.echo(f"re-encrypted the secrets of {changed} consumer(s); key {fingerprint(new)}")
    if from_env:
        typer.echo(
            f"now set EVENT_ROUTER_SECRET_KEY to the value of {NEW_KEY_ENV} for every router "
            "process and restart them; with the old key they refuse to start"
        )


@secret_key_app.command()
def accept(home: Annotated[Path | None, HOME] = None) -> None:
    """Record the current key as this home's key, although it differs from the recorded one.

    For a key that changed on purpose without `rotate` (consumers' secrets written under the old
    key cannot be read: enter them again). Same as `run --accept-new-secret-key`.
    """
    config = settings(home)
    typer.echo(_CONSEQUENCES, err=True)
    key = config.resolved_secret(accept_new=True)
    typer.echo(f"recorded key {fingerprint(key)} for {config.home}")
