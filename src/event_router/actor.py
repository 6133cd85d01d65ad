"""Who is acting: the user behind a web request, or the shell user running the CLI.

The audit log (store/audit.py) records every change with the actor of the context it is made in.
Kept apart from the store (standard library only) so the CLI can set it for any command cheaply.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

Via = Literal["ui", "api", "cli", "system"]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is making changes, and through what."""

    name: str
    via: Via


SYSTEM = Actor("system", "system")
_ACTOR: ContextVar[Actor] = ContextVar("event_router_actor", default=SYSTEM)


def current_actor() -> Actor:
    return _ACTOR.get()


def set_actor(name: str, via: Via) -> None:
    """Act as `name` for the rest of this context (a web request's task, a CLI run)."""
    _ACTOR.set(Actor(name, via))


@contextmanager
def acting_as(name: str, via: Via) -> Iterator[None]:
    token = _ACTOR.set(Actor(name, via))
    try:
        yield
    finally:
        _ACTOR.reset(token)


def cli_actor() -> str:
    """The operating-system user running the CLI."""
    try:
        return f"{getpass.getuser()} (shell)"
    except (KeyError, OSError):
        return "unknown (shell)"
