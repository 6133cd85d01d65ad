"""Fast checks of the rules an xAPI 1.0.3 statement and a Caliper 1.2 event must satisfy.

Pure functions over the JSON values the translators produce, returning the list of reasons a
receiver would reject the item for (empty when it is fine). No schema engine and no models: a
consumer can afford them on every item before sending, to dead-letter a bad statement locally
instead of losing a whole batch at an LRS (xAPI batches are all-or-nothing).

Covered: required properties, ids (UUIDs, `urn:uuid:`), IRIs, the actor's single inverse
functional identifier, language maps, score bounds (min < max, raw within, scaled in -1..1),
result types and durations, context activities and extension keys, ISO 8601 timestamps
(Caliper: `YYYY-MM-DDTHH:mm:ss.SSSZ`), no null values, Caliper event types and the actions each
allows, and entities with an IRI id and a type.
"""

from __future__ import annotations

from typing import Any

import orjson

from event_router.translate.validate.caliper import (
    CALIPER_ACTIONS,
    CALIPER_CONTEXT,
    caliper_problems,
)
from event_router.translate.validate.common import is_iri
from event_router.translate.validate.xapi import xapi_problems

__all__ = [
    "CALIPER_ACTIONS",
    "CALIPER_CONTEXT",
    "caliper_problems",
    "invalid",
    "is_iri",
    "problems",
    "xapi_problems",
]


def problems(protocol: str, item: Any) -> list[str]:
    """The reasons `item` is invalid in `protocol` (`xapi` or `caliper`)."""
    return xapi_problems(item) if protocol == "xapi" else caliper_problems(item)


def invalid(protocol: str, payload: bytes) -> list[str]:
    """The reasons the serialised `payload` is invalid in `protocol`; empty when it is fine."""
    try:
        item = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        return [f"not JSON ({exc})"]
    return problems(protocol, item)
