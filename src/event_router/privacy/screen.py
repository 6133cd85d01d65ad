"""The privacy screen every source's events pass before the journal.

Two rules, both chosen by the operator: fields named in `EVENT_ROUTER_DROP_FIELDS` are removed
(they never reach the journal, so no consumer, dead letter or replay can see them), and events of
learners who were forgotten are dropped whole. Retired learners are known only by a keyed hash of
their user id and of their username (HMAC with the router's secret key), so the list itself names
nobody. The screen is a plain value: it is handed to the translation workers as it is.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from event_router.events import TrackingEvent

# Request fields a tracking-log line keeps at its top level (folded into `context` at ingest).
_TOP_LEVEL = frozenset(
    ("username", "session", "ip", "agent", "host", "referer", "accept_language", "page")
)
STATUS_ROW = "_privacy"  # the journal status row of the screen's figures (no consumer name)
_CACHE = 100_000  # hashed identifiers kept (a learner's events arrive together)


class DropFieldsError(ValueError):
    """A field path the screen cannot use."""


def parse_drop_fields(text: str | None) -> tuple[tuple[str, ...], ...]:
    """`ip, agent, context.client_id, data.answers` → paths on the normalised event. A path
    that does not start with `context.` or `data.` is in `context` (where the request fields
    `ip`, `agent`, `referer`... are once normalised)."""
    paths: list[tuple[str, ...]] = []
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        parts = tuple(part.strip() for part in item.split("."))
        if any(not part for part in parts):
            raise DropFieldsError(f"{item!r}: empty part in a dotted path")
        if parts[0] in ("name", "timestamp", "time", "event_type"):
            raise DropFieldsError(f"{item!r}: an event keeps its name and time")
        if parts in (("context",), ("data",)):
            raise DropFieldsError(f"{item!r}: name a field inside it, not the whole of it")
        if parts[0] not in ("context", "data"):
            parts = ("context", *parts)
        paths.append(parts)
    return tuple(dict.fromkeys(paths))


def retired_key(secret: str | bytes, kind: str, value: str) -> str:
    """The keyed hash a retired learner is listed under: `kind` is `id` or `name`."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, f"retired|{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def identifiers(event: TrackingEvent) -> set[tuple[str, str]]:
    """Every learner the event names: user ids and usernames in `data` and in `context`."""
    found: set[tuple[str, str]] = set()
    sources = [event.context]
    if isinstance(event.data, dict):
        sources.append(event.data)
    for source in sources:
        for kind, key in (("id", "user_id"), ("name", "username")):
            value = source.get(key)
            if isinstance(value, bool):
                continue
            if isinstance(value, int):
                found.add((kind, str(value)))
            elif isinstance(value, str) and value.strip():
                found.add((kind, value.strip()))
    return found


@dataclass
class Screen:
    """What is dropped at ingest. `retired`: the keyed hashes of forgotten learners."""

    secret: str = ""
    drop: tuple[tuple[str, ...], ...] = ()
    retired: frozenset[str] = frozenset()
    _hashes: dict[tuple[str, str], str] = field(default_factory=dict, compare=False, repr=False)

    def __bool__(self) -> bool:
        return bool(self.drop or self.retired)

    def __getstate__(self) -> dict[str, Any]:
        return {"secret": self.secret, "drop": self.drop, "retired": self.retired}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.secret, self.drop, self.retired = state["secret"], state["drop"], state["retired"]
        self._hashes = {}

    def is_retired(self, event: TrackingEvent) -> bool:
        if not self.retired:
            return False
        for ident in identifiers(event):
            digest = self._hashes.get(ident)
            if digest is None:
                if len(self._hashes) >= _CACHE:
                    self._hashes.clear()
                digest = self._hashes[ident] = retired_key(self.secret, *ident)
            if digest in self.retired:
                return True
        return False

    def apply(self, event: TrackingEvent, body: bytes) -> tuple[TrackingEvent, bytes] | None:
        """The event and its journal body with the dropped fields gone; None for an event of a
        retired learner. The body is rewritten only when a field was actually there."""
        if self.is_retired(event):
            return None
        if not self.drop or not any(_present(event, path) for path in self.drop):
            return event, body
        for path in self.drop:
            _drop(event, path)
        return event, orjson.dumps(event.raw)

    def event(self, event: TrackingEvent) -> TrackingEvent | None:
        """`apply` for a source that keeps no body (a backfill sends, it journals nothing)."""
        result = self.apply(event, b"")
        return None if result is None else result[0]

    def screen(
        self, events: Iterable[TrackingEvent], bodies: Iterable[bytes]
    ) -> tuple[list[TrackingEvent], list[bytes], int]:
        """Apply to parallel events and bodies: those kept, and how many were retired."""
        kept_events: list[TrackingEvent] = []
        kept_bodies: list[bytes] = []
        dropped = 0
        for event, body in zip(events, bodies, strict=True):
            result = self.apply(event, body)
            if result is None:
                dropped += 1
                continue
            kept_events.append(result[0])
            kept_bodies.append(result[1])
        return kept_events, kept_bodies, dropped


def _present(event: TrackingEvent, path: tuple[str, ...]) -> bool:
    node: Any = event.context if path[0] == "context" else event.data
    for part in path[1:]:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _drop(event: TrackingEvent, path: tuple[str, ...]) -> None:
    """Remove `path` (on the normalised event) from the event and from the event as received
    (its own copy, parsed from the body: changed in place), in either layout, so the two stay
    alike without normalising again."""
    raw, head, rest = event.raw, path[0], path[1:]
    if head == "context":
        _remove(event.context, rest)
        if len(rest) == 1 and rest[0] in _TOP_LEVEL:
            raw.pop(rest[0], None)  # tracking-log layout: the request fields are at the top
        context = raw.get("context")
        if isinstance(context, str):  # a JSON string: normalise parsed a copy of its own
            try:
                context = raw["context"] = orjson.loads(context)
            except orjson.JSONDecodeError:
                return
        if context is not event.context:  # folded: `event.context` is a shallow copy
            _remove(context, rest)
        return
    _remove(event.data, rest)
    if "data" not in raw and isinstance(raw.get("event"), str) and isinstance(event.data, dict):
        raw["event"] = event.data  # the payload came as a JSON string: keep it parsed


def _remove(node: Any, path: tuple[str, ...]) -> None:
    for part in path[:-1]:
        if not isinstance(node, dict):
            return
        node = node.get(part)
    if isinstance(node, dict):
        node.pop(path[-1], None)


class Privacy:
    """The screen in use (the delivery engine keeps its retired list current) and how many
    events of retired learners it dropped since the process started."""

    def __init__(self, screen: Screen | None = None) -> None:
        self.screen = screen if screen is not None else Screen()
        self.dropped = 0
