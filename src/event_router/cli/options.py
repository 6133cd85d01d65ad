"""Options shared by several commands, and building translation options from them."""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import ValidationError

from event_router.privacy.screen import Screen
from event_router.routing.catalogue import CatalogueError, CourseCatalogue
from event_router.routing.identity import IdentityError, IdentityPolicy, IdentityTable, Policy
from event_router.settings import Settings
from event_router.translate import Options

HOME = typer.Option(
    "--home", envvar="EVENT_ROUTER_HOME", help="Data directory [default: ./event-router-data]."
)
LMS_URL = typer.Option(
    "--lms-url",
    envvar="EVENT_ROUTER_LMS_URL",
    help="LMS root URL used in IRIs [default: http://localhost:18000].",
)


def settings(home: Path | None = None, lms_url: str | None = None) -> Settings:
    overrides: dict[str, object] = {}
    if home is not None:
        overrides["home"] = home
    if lms_url is not None:
        overrides["lms_url"] = lms_url
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:  # each problem on its own line, without pydantic's noise
        problems = []
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            name = "EVENT_ROUTER_" + "_".join(map(str, error["loc"])).upper()
            problems.append(message if "EVENT_ROUTER_" in message else f"{name}: {message}")
        raise typer.BadParameter("\n".join(problems)) from None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def translation_options(
    config: Settings,
    identities: Path | None = None,
    courses: Path | None = None,
    policy: Policy = Policy.ANONYMOUS,
) -> Options:
    """Options for `transform`: the home's secret, and identity and course tables from the given
    files, else from the home's store if it has one (as the running router uses them)."""
    try:
        table = IdentityTable.from_csv(identities) if identities else None
        catalogue = CourseCatalogue.from_csv(courses) if courses else CourseCatalogue()
    except (IdentityError, CatalogueError) as exc:
        raise typer.BadParameter(str(exc)) from None
    if (identities is None or courses is None) and config.has_store():
        from event_router.store import Store, StoreError  # SQLAlchemy only when a store exists

        try:
            with Store.from_settings(config) as store:
                table = table if identities else store.identities.table()
                catalogue = catalogue if courses else store.courses.catalogue()
        except StoreError as exc:
            raise typer.BadParameter(str(exc), param_hint="--home") from None
    identity = IdentityPolicy(config.resolved_secret(), config.lms_url, table, policy)
    return Options(lms_url=config.lms_url, identity=identity, courses=catalogue)


def privacy_screen(config: Settings) -> Screen:
    """The running router's privacy screen for an offline command (`transform`): the fields the
    settings drop, and the home's retired list if it has a store."""
    retired: frozenset[str] = frozenset()
    if config.has_store():
        from event_router.store import Store, StoreError

        try:
            with Store.from_settings(config) as store:
                retired = store.retired.keys()
        except StoreError as exc:
            raise typer.BadParameter(str(exc), param_hint="--home") from None
    return Screen(config.resolved_secret(), config.drop_paths(), retired)
