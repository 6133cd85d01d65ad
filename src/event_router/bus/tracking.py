"""Tracking events as they travel on the Open edX event bus: decode one stream entry.

The body's `data` and `context` are JSON *text* (json.dumps on the LMS side); `data` may be a
JSON string literal (a browser `problem_check` sends its form as a query string). The result
carries the event in the router's normalised shape, and the JSON body the journal stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from event_router.bus.wire import (
    TRACKING_EVENT_TYPE,
    Metadata,
    WireError,
    decode_body,
    read_metadata,
)
from event_router.events import NormaliseError, TrackingEvent, normalise


@dataclass(frozen=True, slots=True)
class Decoded:
    """One tracking event read from the bus: its envelope, its Avro fields, the journal body."""

    entry_id: str
    metadata: Metadata
    tracking_log: dict[str, str]
    event: TrackingEvent
    body: bytes

    @property
    def key(self) -> str:
        """The idempotency key: the message id, else the entry id (library consumers make an id
        up when it is missing, so the entry id is the only stable thing then)."""
        return f"id:{self.metadata.id}" if self.metadata.id else f"entry:{self.entry_id}"


def decode_tracking(entry_id: str, fields: dict[bytes, bytes]) -> Decoded | Metadata:
    """Decode one entry: a `Decoded` tracking event, or the `Metadata` of another event type.

    Raises WireError when the entry is not usable: no type, no body, bad Avro, JSON text that
    does not parse, or a tracking event the router cannot normalise.
    """
    metadata = read_metadata(fields)
    if metadata.event_type != TRACKING_EVENT_TYPE:
        return metadata
    body = fields.get(b"event_data")
    if body is None:
        raise WireError("no `event_data` field")
    record = decode_body(TRACKING_EVENT_TYPE, body, minorversion=metadata.minorversion)
    return from_record(entry_id, metadata, record)


def from_record(entry_id: str, metadata: Metadata, record: dict[str, Any]) -> Decoded:
    """The tracking event in a decoded `CloudEvent` record (from Redis or from Kafka).

    Raises WireError when its JSON texts do not parse or the event cannot be normalised."""
    log_record = record.get("tracking_log")
    if not isinstance(log_record, dict):
        raise WireError("body has no tracking_log record")
    value: dict[str, Any] = {"name": log_record["name"], "timestamp": log_record["timestamp"]}
    for field in ("data", "context"):
        try:
            # JSON text: an object, or a JSON string literal (browser problem_check), or any value
            value[field] = orjson.loads(log_record[field])
        except orjson.JSONDecodeError as exc:
            raise WireError(f"`{field}` is not JSON text ({exc})") from None
    try:
        event = normalise(value)
    except NormaliseError as exc:
        raise WireError(f"not a usable tracking event: {exc}") from None
    return Decoded(entry_id, metadata, dict(log_record), event, orjson.dumps(value))
