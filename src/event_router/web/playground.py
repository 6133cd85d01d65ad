"""The translation playground: for one event, what each consumer would receive, and why.

It runs the delivery path itself (route decision, then the consumer's `Encoder`: translation with
the consumer's identity policy, override arguments, serialisation), so what it shows is byte for
byte what would be sent; only the journal and the sink are left out.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from event_router.delivery.encoder import Encoder, Skip, TranslationCache
from event_router.events import NormaliseError, TrackingEvent, normalise, parse_line
from event_router.journal import Entry
from event_router.routing.consumer import Consumer
from event_router.routing.identity import IdentityPolicy, Policy
from event_router.translate import Options
from event_router.translate.validate import problems
from event_router.web.context import WebContext

SAMPLE = {
    "name": "play_video",
    "timestamp": "2024-05-06T07:08:09.123456+00:00",
    "data": {"id": "0b9e39477cf34507a7a48f74be381fdd", "currentTime": 12.5, "code": "html5"},
    "context": {
        "course_id": "course-v1:edX+DemoX+Demo_Course",
        "org_id": "edX",
        "user_id": 3,
        "username": "edx",
        "session": "3f3a2e5d6c1b",
        "path": "/event",
    },
}


def parse_event(text: str) -> TrackingEvent:
    """An event from text: a JSON object, or a tracking-log line (logger prefix allowed)."""
    if not text.strip():
        raise NormaliseError("paste an event: a JSON object or a tracking.log line")
    return parse_line(text.strip())


def event_from_json(value: Any) -> TrackingEvent:
    return normalise(value)


class OptionsSource:
    """Translation options per identity policy: the running engine's (exactly what it uses), or,
    without an engine in this process, built the same way from the store and the settings."""

    def __init__(self, context: WebContext) -> None:
        self._context = context
        self._built: dict[Policy, Options] = {}

    def __call__(self, policy: Policy) -> Options:
        engine = self._context.engine
        if engine is not None:
            return engine.options(policy)
        if not self._built:
            store = self._context.store
            identities, catalogue = store.identities.table(), store.courses.catalogue()
            for each in Policy:
                identity = IdentityPolicy(
                    self._context.secret_key, self._context.lms_url, identities, each
                )
                self._built[each] = Options(
                    lms_url=self._context.lms_url, identity=identity, courses=catalogue
                )
        return self._built[policy]


def try_event(
    context: WebContext, event: TrackingEvent, only: list[str] | None = None
) -> list[dict[str, Any]]:
    """One result per consumer (or per named consumer): would it receive the event, which rule
    decided, and the exact items (or why translation refused)."""
    consumers = context.store.consumers.list()
    if only:
        consumers = [c for c in consumers if c.name in only]
    options = OptionsSource(context)
    entry = Entry(seq=0, ingested_at=time.time(), event=event)
    return [verdict(consumer, entry, options) for consumer in consumers]


def verdict(consumer: Consumer, entry: Entry, options: OptionsSource) -> dict[str, Any]:
    """What `consumer` makes of the entry: route decision and rule, items or translation error
    (the playground, and the event inspector for an event in the journal)."""
    decision = consumer.route.decide(entry.event)
    result: dict[str, Any] = {
        "consumer": consumer.name,
        "protocol": consumer.protocol.value,
        "sink": consumer.sink,
        "enabled": consumer.enabled,
        "identity": consumer.identity.value,
        "allowed": decision.allowed,
        "rule": decision.rule,
        "items": [],
        "error": None,
    }
    if not decision.allowed:
        return result
    outputs = [_output(consumer, entry, options, consumer.hooks)]
    if consumer.hooks and consumer.protocol.value != "edx":
        outputs = [
            _output(consumer, entry, options, consumer.hooks[:k])
            for k in range(len(consumer.hooks))
        ] + outputs
        result["hooks"] = [
            {"hook": name, **_effect(before, after)}
            for name, before, after in zip(consumer.hooks, outputs[:-1], outputs[1:], strict=True)
        ]
    encoded = outputs[-1]
    if isinstance(encoded, str):
        result["error"] = encoded
    else:
        result["items"] = encoded
        if consumer.validate_items and consumer.protocol.value != "edx":
            # What `validate` would dead-letter instead of sending, item by item.
            result["invalid"] = [problems(consumer.protocol.value, item) for item in encoded]
    return result


def _output(
    consumer: Consumer, entry: Entry, options: OptionsSource, hooks: list[str]
) -> list[dict[str, Any]] | str:
    """The items `consumer` would get with only `hooks`, or why it would get none."""
    chosen = consumer.model_copy(update={"hooks": list(hooks)})
    encoder = Encoder(chosen, options(consumer.identity), TranslationCache(size=4))
    encoded = encoder.encode(entry)
    if isinstance(encoded, Skip):
        return encoded.reason
    return [orjson.loads(item) for item in encoded]


def _effect(
    before: list[dict[str, Any]] | str, after: list[dict[str, Any]] | str
) -> dict[str, Any]:
    """What one hook did to the output: the fields it added, changed or removed (by path)."""
    if isinstance(after, str):
        return {
            "effect": "refused" if isinstance(before, list) else "unchanged",
            "changes": [after],
        }
    if isinstance(before, str):
        return {"effect": "changed", "changes": [f"now {len(after)} item(s): was {before}"]}
    changes: list[str] = []
    if len(after) != len(before):
        changes.append(f"{len(before)} item(s) → {len(after)}")
    for index, (old, new) in enumerate(zip(before, after, strict=False)):
        flat_old, flat_new = _flat(old, f"[{index}]"), _flat(new, f"[{index}]")
        for path in sorted(flat_new.keys() - flat_old.keys()):
            changes.append(f"added {path} = {orjson.dumps(flat_new[path]).decode()}")
        for path in sorted(flat_old.keys() - flat_new.keys()):
            changes.append(f"removed {path}")
        for path in sorted(flat_old.keys() & flat_new.keys()):
            if flat_old[path] != flat_new[path]:
                changes.append(f"changed {path} to {orjson.dumps(flat_new[path]).decode()}")
    return {"effect": "changed" if changes else "unchanged", "changes": changes}


def _flat(value: Any, path: str) -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flat(item, f"{path}.{key}"))
        return out
    return {path: value}


def summary(event: TrackingEvent) -> dict[str, Any]:
    """The normalised event and the facts routes look at."""
    return {
        "name": event.name,
        "timestamp": event.timestamp,
        "course_id": event.course_id,
        "org_id": event.org_id,
        "user": event.user_key,
        "normalised": event.as_dict(),
    }
