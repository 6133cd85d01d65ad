"""`event-router dead-letters …`: what consumers rejected, why, and replaying or discarding it.

Replay only marks letters; the running router re-sends them within seconds (same statement ids,
so an LRS that accepted one already sees a duplicate, not a second statement).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from event_router.cli import app
from event_router.cli.control_plane import open_store, store_errors
from event_router.cli.options import HOME
from event_router.cli.output import console, fail
from event_router.store import State
from event_router.store.database import MAX_ROW_ID

dead_letters_app = typer.Typer(
    no_args_is_help=True,
    help="Items consumers rejected as invalid, with the endpoint's answer; replay or discard them.",
)
app.add_typer(dead_letters_app, name="dead-letters")

Consumer = Annotated[str | None, typer.Option("--consumer", "-c", help="Only this consumer's.")]
Home = Annotated[Path | None, HOME]
ROW_ID: dict[str, Any] = {"min": 1, "max": MAX_ROW_ID}  # beyond: no row can have it (exit 2)


@dead_letters_app.command("list")
def list_(
    consumer: Consumer = None,
    state: Annotated[State | None, typer.Option(help="Only letters in this state.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
    offset: Annotated[int, typer.Option(min=0, max=MAX_ROW_ID, help="Skip this many.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="JSON, with events and items.")] = False,
    home: Home = None,
) -> None:
    """Dead letters, newest first."""
    with store_errors(), open_store(home) as store:
        if consumer is not None:
            store.consumers.get(consumer)
        letters = store.dead_letters.list(consumer, state, limit, offset)
        total = store.dead_letters.count(consumer, state)
    if as_json:
        typer.echo(json.dumps([letter.to_json() for letter in letters], indent=2))
        return
    if not letters:
        typer.echo("no dead letters", err=True)
        return
    table = Table("id", "consumer", "state", "status", "event", "seq", "reason", "created")
    for letter in letters:
        table.add_row(
            str(letter.id),
            letter.consumer,
            letter.state.value,
            "" if letter.status is None else str(letter.status),
            letter.event_name,
            str(letter.event_seq),
            letter.reason if len(letter.reason) <= 60 else letter.reason[:57] + "...",
            letter.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
    console().print(table)
    if total > offset + len(letters):
        typer.echo(f"{offset + len(letters)} of {total}; more with --offset", err=True)


@dead_letters_app.command()
def show(
    letter_id: Annotated[int, typer.Argument(metavar="ID", help="Dead letter id.", **ROW_ID)],
    home: Home = None,
) -> None:
    """One dead letter in full: the event, what was sent, and what the endpoint answered."""
    with store_errors(), open_store(home) as store:
        letter = store.dead_letters.get(letter_id)
    typer.echo(json.dumps(letter.to_json(), indent=2, ensure_ascii=False))


@dead_letters_app.command()
def replay(
    ids: Annotated[
        list[int] | None, typer.Argument(metavar="ID", help="Letter ids.", **ROW_ID)
    ] = None,
    consumer: Consumer = None,
    home: Home = None,
) -> None:
    """Mark dead (or discarded) letters for replay: these ids, or all of a consumer's."""
    if not ids and consumer is None:
        fail("give dead letter ids, --consumer, or both", 2)
    with store_errors(), open_store(home) as store:
        marked = store.dead_letters.mark_for_replay(ids, consumer)
    typer.echo(f"marked {marked} dead letter(s) for replay; a running router re-sends them")


@dead_letters_app.command()
def discard(
    ids: Annotated[
        list[int] | None, typer.Argument(metavar="ID", help="Letter ids.", **ROW_ID)
    ] = None,
    consumer: Consumer = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    home: Home = None,
) -> None:
    """Give up on dead letters (they stay listed as discarded and can still be replayed)."""
    if not ids and consumer is None:
        fail("give dead letter ids, --consumer, or both", 2)
    what = f"{len(ids)} dead letter(s)" if ids else f"every dead letter of {consumer}"
    if not yes:
        typer.confirm(f"discard {what}?", abort=True)
    with store_errors(), open_store(home) as store:
        discarded = store.dead_letters.discard(ids, consumer)
    typer.echo(f"discarded {discarded} dead letter(s)")
