"""`event-router users …` and `event-router tokens …`: who may use the admin API and UI.

Passwords are asked for interactively (hidden, twice) or read from standard input with
`--password-stdin`, never taken as an argument, where they would end up in shell history and in
the process list. API tokens are printed once, when created.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from event_router.cli import app
from event_router.cli.control_plane import open_store
from event_router.cli.options import HOME
from event_router.cli.output import console, fail
from event_router.store import InvalidUser, Role, StoreError
from event_router.store.database import MAX_ROW_ID

users_app = typer.Typer(
    no_args_is_help=True,
    help="Users of the admin API and UI: admins change things, viewers only look.",
)
tokens_app = typer.Typer(
    no_args_is_help=True,
    help="API tokens for automation: `Authorization: Bearer <token>` on /api/v1.",
)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")

Home = Annotated[Path | None, HOME]
Username = Annotated[str, typer.Argument(help="User name: letters, digits, . _ @ + -")]
PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from standard input (first line)."),
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            fail("no password on standard input", 2)
        return line.rstrip("\r\n")
    value: str = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    return value


@users_app.command()
def add(
    username: Username,
    role: Annotated[Role, typer.Option(help="admin (everything) or viewer (read only).")] = (
        Role.VIEWER
    ),
    password_stdin: PasswordStdin = False,
    home: Home = None,
) -> None:
    """Add a user; the password is asked for (or read with --password-stdin)."""
    password = _password(password_stdin)
    with open_store(home, secrets=False) as store:
        try:
            store.users.add(username, password, role)
        except InvalidUser as exc:
            fail(str(exc), 2)
        except StoreError as exc:
            fail(str(exc))
    typer.echo(f"added {role.value} {username}")


@users_app.command()
def remove(
    username: Username,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    home: Home = None,
) -> None:
    """Remove a user and their API tokens; their sessions end at once."""
    with open_store(home, secrets=False) as store:
        try:
            store.users.get(username)
            if not yes:
                typer.confirm(f"remove user {username} and their API tokens?", abort=True)
            store.users.remove(username)
        except StoreError as exc:
            fail(str(exc))
    typer.echo(f"removed user {username}")


@users_app.command("set-password")
def set_password(
    username: Username, password_stdin: PasswordStdin = False, home: Home = None
) -> None:
    """Change a user's password; every session they have open ends."""
    with open_store(home, secrets=False) as store:
        try:
            store.users.get(username)
            store.users.set_password(username, _password(password_stdin))
        except InvalidUser as exc:
            fail(str(exc), 2)
        except StoreError as exc:
            fail(str(exc))
    typer.echo(f"password of {username} changed")


@users_app.command("set-role")
def set_role(
    username: Username,
    role: Annotated[Role, typer.Argument(help="admin or viewer.")],
    home: Home = None,
) -> None:
    """Make a user an admin or a viewer; their sessions end (tokens never exceed the new role)."""
    with open_store(home, secrets=False) as store:
        try:
            store.users.set_role(username, role)
        except StoreError as exc:
            fail(str(exc))
    typer.echo(f"{username} is now {role.value}")


@users_app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
    home: Home = None,
) -> None:
    """Every user and their role."""
    with open_store(home, secrets=False) as store:
        users = store.users.list()
    if as_json:
        typer.echo(json.dumps([user.to_json() for user in users], indent=2))
        return
    if not users:
        typer.echo("no users; add one with `event-router users add NAME --role admin`", err=True)
        return
    table = Table("user", "role", "created")
    for user in users:
        table.add_row(user.username, user.role.value, user.created_at.strftime("%Y-%m-%d %H:%M"))
    console().print(table)


@users_app.command("sessions")
def sessions(
    username: Annotated[str | None, typer.Argument(help="Only this user's sessions.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
    home: Home = None,
) -> None:
    """Open web sessions: user, sign-in time, last request, client address (never the token)."""
    with open_store(home) as store:
        try:
            if username is not None:
                store.users.get(username)
            found = store.sessions.list(username)
        except StoreError as exc:
            fail(str(exc))
    if as_json:
        typer.echo(json.dumps([session.to_json() for session in found], indent=2))
        return
    if not found:
        typer.echo("no open sessions", err=True)
        return
    table = Table("id", "user", "signed in", "last seen", "client")
    for session in found:
        table.add_row(
            str(session.id),
            session.username,
            session.created_at.strftime("%Y-%m-%d %H:%M"),
            session.last_seen_at.strftime("%Y-%m-%d %H:%M:%S"),
            session.client,
        )
    console().print(table)


@users_app.command("revoke-sessions")
def revoke_sessions(username: Username, home: Home = None) -> None:
    """End every web session of a user at once (their API tokens stay valid)."""
    with open_store(home) as store:
        try:
            ended = store.sessions.end_all(username)
        except StoreError as exc:
            fail(str(exc))
    typer.echo(f"ended {ended} session(s) of {username}")


@tokens_app.command("create")
def create_token(
    user: Annotated[str, typer.Option("--user", "-u", help="The user the token acts for.")],
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'ci' or 'grafana'.")],
    role: Annotated[
        Role | None, typer.Option(help="Restrict the token to viewer [default: the user's role].")
    ] = None,
    consumer: Annotated[
        str | None,
        typer.Option(
            help="Bind the token to this stream consumer: it reads GET /api/v1/stream and "
            "nothing else (for an adaptive engine, a notebook...)."
        ),
    ] = None,
    home: Home = None,
) -> None:
    """Create an API token and print it (only now: it is stored hashed)."""
    with open_store(home, secrets=False) as store:
        try:
            record, token = store.tokens.create(user, name, role, consumer)
        except InvalidUser as exc:
            fail(str(exc), 2)
        except StoreError as exc:
            fail(str(exc))
    typer.echo(token)
    scope = f"stream of {record.consumer}" if record.consumer else record.role.value
    typer.echo(
        f"token {record.id} ({scope}) for {user}: copy it now, it is not shown again", err=True
    )


@tokens_app.command("list")
def list_tokens(
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this user's.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
    home: Home = None,
) -> None:
    """API tokens (never the tokens themselves: their first characters, to tell them apart)."""
    with open_store(home, secrets=False) as store:
        tokens = store.tokens.list(user)
    if as_json:
        typer.echo(json.dumps([token.to_json() for token in tokens], indent=2))
        return
    if not tokens:
        typer.echo("no API tokens", err=True)
        return
    table = Table("id", "user", "name", "role", "starts with", "created", "last used")
    for token in tokens:
        used = token.last_used_at.strftime("%Y-%m-%d %H:%M") if token.last_used_at else "never"
        table.add_row(
            str(token.id),
            token.username,
            token.name,
            f"stream of {token.consumer}" if token.consumer else token.role.value,
            token.prefix + "…",
            token.created_at.strftime("%Y-%m-%d %H:%M"),
            used,
        )
    console().print(table)


@tokens_app.command("revoke")
def revoke_token(
    token_id: Annotated[
        int,
        typer.Argument(metavar="ID", help="Token id (see `tokens list`).", min=1, max=MAX_ROW_ID),
    ],
    home: Home = None,
) -> None:
    """Revoke an API token: requests with it get 401 from now on."""
    with open_store(home, secrets=False) as store:
        try:
            store.tokens.revoke(token_id)
        except StoreError as exc:
            fail(str(exc))
    typer.echo(f"revoked token {token_id}")
