"""A consumer's hooks, run around the translation of each event.

Only consumers with hooks come here (`Encoder` and the translation workers keep the plain path
for the others, at no extra cost). Each step gets a copy — of the event in the event-tracking
layout before translation, of each translated item after — so a hook can change what it is given
in place without touching what other consumers receive. A step that raises, or returns something
unusable, refuses the event with a reason naming it; one that returns None drops it (before) or
the item (after) for this consumer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from event_router.events import NormaliseError, TrackingEvent, normalise
from event_router.plugins import After, Before
from event_router.plugins.figures import on_behalf, record
from event_router.translate.options import Options

DROPPED = "dropped by hook "
# What a plugin may raise that costs only its event: any error, and SystemExit (a plugin calling
# sys.exit must not stop a worker, or the router when it translates in-process).
FAILURES = (Exception, SystemExit)  # the start of a drop's reason: a choice, not a failure

Translated = list[bytes] | str


class HookChain:
    """The hooks `names` (in order) of `consumer`, for the items of `protocol`."""

    def __init__(self, names: Sequence[str], consumer: str, protocol: str) -> None:
        from event_router.plugins.loader import hooks

        found = hooks()
        self.names = tuple(names)
        self.consumer = consumer
        self.missing = [name for name in names if name not in found]
        self.before: list[tuple[str, Before]] = []
        self.after: list[tuple[str, After]] = []
        for name in names:
            hook = found.get(name)
            if hook is None:
                continue
            if hook.before is not None:
                self.before.append((name, hook.before))
            if hook.after is not None and protocol in hook.protocols:
                self.after.append((name, hook.after))


def hooked(event: TrackingEvent, protocol: str, options: Options, chain: HookChain) -> Translated:
    """`translated`, with the chain's steps before and after; never raises."""
    from event_router.translate.workers import translated

    with on_behalf(chain.consumer):
        if chain.missing:
            return f"hook {chain.missing[0]} is not installed"
        try:
            return _run(event, protocol, options, chain, translated)
        except FAILURES as exc:  # what a step returned cannot be copied or written, say
            return f"hooks failed ({type(exc).__name__}: {exc})"


def _run(
    event: TrackingEvent,
    protocol: str,
    options: Options,
    chain: HookChain,
    translated: Callable[[TrackingEvent, str, Options], Translated],
) -> Translated:
    if chain.before:
        changed = _before(chain, _copy(event.as_dict()))
        if isinstance(changed, str):
            return changed
        event = changed
    result = translated(event, protocol, options)
    if isinstance(result, str) or not chain.after:
        return result
    return _after(chain, result, _copy(event.as_dict()))


def _before(chain: HookChain, value: dict[str, Any]) -> TrackingEvent | str:
    for name, step in chain.before:
        start = time.perf_counter()
        try:
            changed = step(value)
        except FAILURES as exc:
            record(name, "before", "failed", time.perf_counter() - start)
            return f"hook {name} failed ({type(exc).__name__}: {exc})"
        if changed is None:
            record(name, "before", "dropped", time.perf_counter() - start)
            return f"{DROPPED}{name}"
        if not isinstance(changed, dict):
            record(name, "before", "failed", time.perf_counter() - start)
            return f"hook {name} returned {type(changed).__name__}, not an event"
        record(name, "before", "ok", time.perf_counter() - start)
        value = changed
    try:
        return normalise(value)
    except (NormaliseError, TypeError, ValueError, AttributeError) as exc:
        reason = exc.reason if isinstance(exc, NormaliseError) else f"{type(exc).__name__}: {exc}"
        return f"hook {chain.before[-1][0]} made an unreadable event ({reason})"


def _after(chain: HookChain, items: list[bytes], event: dict[str, Any]) -> Translated:
    out: list[bytes] = []
    dropped_by = ""
    for raw in items:
        item: dict[str, Any] | None = orjson.loads(raw)
        for name, step in chain.after:
            start = time.perf_counter()
            try:
                item = step(item, event)  # type: ignore[arg-type]  # None stops the loop
                if item is not None and not isinstance(item, dict):
                    raise TypeError(f"returned {type(item).__name__}, not an object")
                out_bytes = orjson.dumps(item) if item is not None else b""
            except FAILURES as exc:
                record(name, "after", "failed", time.perf_counter() - start)
                return f"hook {name} failed ({type(exc).__name__}: {exc})"
            record(
                name, "after", "ok" if item is not None else "dropped", time.perf_counter() - start
            )
            if item is None:
                dropped_by = name
                break
        if item is not None:
            out.append(out_bytes)
    if not out:
        return f"{DROPPED}{dropped_by}"
    return out


def _copy(value: dict[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = orjson.loads(orjson.dumps(value))
    return copied
