"""Plugins: installed packages that add or replace translations, and hook steps consumers opt into.

A package declares entry points in its own `pyproject.toml`:

- `event_router.translators`: a `Translation` (or a list of them): event names, and the function
  that translates them to xAPI, Caliper or both. A name the router already translates is replaced.
- `event_router.hooks`: a `Hook` named by its entry point: `before` changes (or drops) an event
  before translation, `after` changes (or drops) each translated item. A consumer lists the hooks
  it wants in its `hooks` setting, in the order they run.

Both run where translation runs (the translation workers, `transform`, backfill); what one of them
raises costs the event it was given (refused with the reason), never the router. See
docs/plugins.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from event_router.events import TrackingEvent
from event_router.translate.options import Options

__all__ = ["After", "Before", "Hook", "TranslateFn", "Translation"]

TranslateFn = Callable[[TrackingEvent, Options], list[dict[str, Any]]]
# A before step: the event (a copy, in the event-tracking layout: name, timestamp, data,
# context) → the event to translate, or None to drop it for this consumer.
Before = Callable[[dict[str, Any]], dict[str, Any] | None]
# An after step: (one translated item (a copy), the event it came from) → the item, or None.
After = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any] | None]


@dataclass(frozen=True, slots=True)
class Translation:
    """What a package translates: `events` to xAPI with `xapi`, to Caliper with `caliper`."""

    events: tuple[str, ...]
    xapi: TranslateFn | None = None
    caliper: TranslateFn | None = None


@dataclass(frozen=True, slots=True)
class Hook:
    """Steps a consumer can opt into. `protocols` limits the `after` step to those outputs."""

    before: Before | None = None
    after: After | None = None
    protocols: tuple[str, ...] = ("xapi", "caliper")
