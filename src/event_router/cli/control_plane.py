"""The control-plane store as commands open it, and its errors as one clear message each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from event_router.cli.options import settings
from event_router.cli.output import fail
from event_router.routing.catalogue import CatalogueError
from event_router.routing.identity import IdentityError
from event_router.store import InvalidConfig, Store, StoreError
from event_router.store.database import database_url


@contextmanager
def store_errors() -> Iterator[None]:
    """Store errors as one clear message: exit 2 for invalid input, 1 for everything else."""
    try:
        yield
    except (InvalidConfig, IdentityError, CatalogueError) as exc:
        fail(str(exc), 2)
    except StoreError as exc:
        fail(str(exc))
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        fail(f"database error: {reason[0] if reason else type(exc).__name__}")


def open_store(home: Path | None, secrets: bool = True) -> Store:
    """The store of the home (or EVENT_ROUTER_DATABASE_URL), created and migrated if needed.
    Without `secrets` (users, identities) no secret key is needed, nor checked."""
    try:
        if not secrets:
            return Store.open(database_url(settings(home)))
        return Store.from_settings(settings(home))
    except StoreError as exc:
        fail(str(exc))
