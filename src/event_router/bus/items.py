"""What the bus sinks publish for one translated item, on Redis Streams or on Kafka alike.

| protocol | event type | Avro record |
| --- | --- | --- |
| xapi | `org.openedx.analytics.xapi.statement.emitted.v1` | `xapi_statement: {id, statement}` |
| caliper | `org.openedx.analytics.caliper.event.emitted.v1` | `caliper_event: {id, event}` |
| edx | `org.openedx.analytics.tracking.event.emitted.v1` | the LMS's `tracking_log` record |

Each item also gets an idempotency key (the statement or event id; a digest for an edx event),
from which the message id is derived, and a learner key: who the item is about (the xAPI actor's
account name or mailbox, the Caliper actor's id, the tracking event's learner), so a partitioned
bus can keep one learner's items in one partition, in order.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from event_router.bus.wire import CALIPER_EVENT_TYPE, TRACKING_EVENT_TYPE, XAPI_EVENT_TYPE
from event_router.events import normalise
from event_router.routing.consumer import Protocol
from event_router.routing.identity import learner_key

TYPES = {
    Protocol.XAPI: (XAPI_EVENT_TYPE, "xapi"),
    Protocol.CALIPER: (CALIPER_EVENT_TYPE, "caliper"),
    Protocol.EDX: (TRACKING_EVENT_TYPE, "tracking"),
}
"""Each protocol's event type and default topic."""


@dataclass(frozen=True, slots=True)
class Publication:
    """One item ready to encode: its idempotency key, its Avro record, its learner."""

    key: str
    record: dict[str, Any]
    learner: str


def publication(event_type: str, item: bytes) -> Publication:
    """The record for `item` (ValueError, KeyError or TypeError if it cannot be one)."""
    value = orjson.loads(item)
    if not isinstance(value, dict):
        raise ValueError("item is not a JSON object")
    if event_type == TRACKING_EVENT_TYPE:
        record: dict[str, Any] = {"tracking_log": tracking_log(value)}
        user_id, username = learner_key(normalise(value))
        return Publication(hashlib.sha256(item).hexdigest(), record, user_id or username or "")
    found = value.get("id")
    if not isinstance(found, str) or not found:
        raise ValueError("item has no id")
    text = item.decode("utf-8")
    if event_type == XAPI_EVENT_TYPE:
        record = {"xapi_statement": {"id": found, "statement": text}}
        return Publication(found, record, _xapi_actor(value.get("actor")))
    record = {"caliper_event": {"id": found, "event": text}}
    return Publication(found, record, _caliper_actor(value.get("actor")))


def tracking_log(value: dict[str, Any]) -> dict[str, str]:
    """The LMS's record for an `edx` item: data and context as JSON text, like the producer."""
    return {
        "name": str(value["name"]),
        "timestamp": str(value["timestamp"]),
        "data": orjson.dumps(value.get("data")).decode(),
        "context": orjson.dumps(value.get("context") or {}).decode(),
    }


def _xapi_actor(actor: Any) -> str:
    """The inverse functional identifier of an xAPI agent (account, mbox, sha1, openid)."""
    if not isinstance(actor, dict):
        return ""
    account = actor.get("account")
    if isinstance(account, dict) and account.get("name"):
        return f"{account.get('homePage', '')}|{account['name']}"
    for field in ("mbox", "mbox_sha1sum", "openid"):
        if actor.get(field):
            return str(actor[field])
    return orjson.dumps(actor, option=orjson.OPT_SORT_KEYS).decode()


def _caliper_actor(actor: Any) -> str:
    if isinstance(actor, dict):
        return str(actor.get("id") or "")
    return actor if isinstance(actor, str) else ""
