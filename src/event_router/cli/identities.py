"""`event-router identities import` and `courses import`: LMS tables the translations use.

Imported into the control-plane store, they are used by the running router and by `transform`
with the same home, so both produce the same statements.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from event_router.cli import app
from event_router.cli.control_plane import open_store, store_errors
from event_router.cli.options import HOME

identities_app = typer.Typer(
    no_args_is_help=True, help="Learners' anonymous ids, imported from the LMS (ERB's ExternalId)."
)
courses_app = typer.Typer(no_args_is_help=True, help="Course display names.")
app.add_typer(identities_app, name="identities")
app.add_typer(courses_app, name="courses")


@identities_app.command("import")
def import_identities(
    file: Annotated[Path, typer.Argument(metavar="FILE.csv", help="CSV file.")],
    home: Annotated[Path | None, HOME] = None,
) -> None:
    """Add or update identities from CSV `user_id,username,kind,anonymous_id[,email]`.

    All rows or none: a bad line changes nothing. Export from the LMS, e.g. with
    `SELECT u.id, u.username, t.name, e.external_user_id, u.email FROM external_user_ids_externalid
    e JOIN auth_user u ON u.id = e.user_id JOIN external_user_ids_externalidtype t ON t.id =
    e.external_id_type_id`.
    """
    with store_errors(), open_store(home, secrets=False) as store:
        read = store.identities.import_csv(file)
        total = store.identities.count()
    typer.echo(f"imported {read} row(s); {total} identities stored")


@courses_app.command("import")
def import_courses(
    file: Annotated[Path, typer.Argument(metavar="FILE.csv", help="CSV file.")],
    home: Annotated[Path | None, HOME] = None,
) -> None:
    """Add or update course names from CSV `course_id,display_name` (all rows or none)."""
    with store_errors(), open_store(home, secrets=False) as store:
        read = store.courses.import_csv(file)
        total = store.courses.count()
    typer.echo(f"imported {read} row(s); {total} courses stored")
