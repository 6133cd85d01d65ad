"""The Open edX event bus on Redis Streams, as edx-event-bus-redis writes it (OEP-52).

One event is one stream entry: seven UTF-8 metadata fields (`type`, `id`, `source`, `time`,
`minorversion`, `sourcehost`, `sourcelib`, in that order), then `event_data`, the schemaless Avro
body of a `CloudEvent` record whose schema is chosen by `type`. The details and the pitfalls are
in docs/integration.md; this module needs only `fastavro`, not Django or openedx-events, so the
router can read and write the bus without the LMS's code.
"""

from __future__ import annotations

import io
import re
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

import fastavro
import orjson

from event_router import __version__

TRACKING_EVENT_TYPE = "org.openedx.analytics.tracking.event.emitted.v1"
XAPI_EVENT_TYPE = "org.openedx.analytics.xapi.statement.emitted.v1"
CALIPER_EVENT_TYPE = "org.openedx.analytics.caliper.event.emitted.v1"
EVENT_TYPES = (TRACKING_EVENT_TYPE, XAPI_EVENT_TYPE, CALIPER_EVENT_TYPE)
BODY_FIELD = b"event_data"
SOURCE = "openedx/event-router/web"
# Library consumers split `sourcelib` on dots and int() each part: only the numeric release.
SOURCE_LIB = re.match(r"\d+(?:\.\d+)*", __version__).group(0)  # type: ignore[union-attr]
_ID_NAMESPACE = uuid.UUID("6f1b7c4e-1f7a-5b55-9a8e-0e5d2f3c8a10")


class WireError(ValueError):
    """An entry that is not a usable bus message; the text says why."""


def stream_name(topic: str, prefix: str | None = None) -> str:
    """`<prefix>-<topic>`, or `<topic>` without a prefix (producers and consumers agree)."""
    if not topic:
        raise ValueError("a bus topic is required")
    return f"{prefix}-{topic}" if prefix else topic


@dataclass(frozen=True, slots=True)
class Metadata:
    """The envelope of one bus message (OEP-41 CloudEvents attributes) as text."""

    event_type: str
    id: str | None = None
    source: str | None = None
    time: str | None = None
    minorversion: int = 0
    sourcehost: str | None = None
    sourcelib: str | None = None

    @classmethod
    def new(cls, event_type: str, key: str, *, now: datetime | None = None) -> Metadata:
        """Our own envelope for `key` (e.g. a statement id).

        The message id is a UUID derived from the event type and the key, so a re-sent item
        carries the same id and downstream consumers can drop the duplicate.
        """
        return cls(
            event_type=event_type,
            id=str(uuid.uuid5(_ID_NAMESPACE, f"{event_type}\n{key}")),
            source=SOURCE,
            time=(now or datetime.now(UTC)).astimezone(UTC).isoformat(),
            minorversion=0,
            sourcehost=socket.gethostname(),
            sourcelib=SOURCE_LIB,
        )

    def fields(self) -> dict[bytes, bytes]:
        """The metadata fields in the producer's order (the body goes after them)."""
        values = (
            ("type", self.event_type),
            ("id", self.id),
            ("source", self.source),
            ("time", self.time),
            ("minorversion", str(self.minorversion)),
            ("sourcehost", self.sourcehost),
            ("sourcelib", self.sourcelib),
        )
        return {k.encode(): v.encode() for k, v in values if v is not None}

    @property
    def sent_at(self) -> datetime | None:
        """`time` parsed, or None when absent or not ISO 8601."""
        if not self.time:
            return None
        try:
            return datetime.fromisoformat(self.time)
        except ValueError:
            return None


def _text(fields: Mapping[bytes, bytes], name: str) -> str | None:
    raw = fields.get(name.encode())
    if raw is None or raw == b"":
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WireError(f"field {name!r} is not UTF-8") from None


def read_metadata(fields: Mapping[bytes, bytes]) -> Metadata:
    """The envelope of an entry; only `type` is required (library consumers default the rest)."""
    event_type = _text(fields, "type")
    if event_type is None:
        raise WireError("no `type` field")
    minor = _text(fields, "minorversion")
    try:
        minorversion = int(minor) if minor is not None else 0
    except ValueError:
        raise WireError(f"minorversion {minor!r} is not an integer") from None
    return Metadata(
        event_type=event_type,
        id=_text(fields, "id"),
        source=_text(fields, "source"),
        time=_text(fields, "time"),
        minorversion=minorversion,
        sourcehost=_text(fields, "sourcehost"),
        sourcelib=_text(fields, "sourcelib"),
    )


@cache
def schema(event_type: str) -> Any:
    """The parsed Avro schema shipped for `event_type` (KeyError for a type we do not know)."""
    if event_type not in EVENT_TYPES:
        raise KeyError(event_type)
    text = resources.files("event_router.bus").joinpath("schemas", f"{event_type}.avsc")
    return fastavro.parse_schema(orjson.loads(text.read_bytes()))


def encode_body(event_type: str, record: Mapping[str, Any]) -> bytes:
    """The schemaless Avro body (no container, no magic bytes, no schema id)."""
    out = io.BytesIO()
    fastavro.schemaless_writer(out, schema(event_type), dict(record))
    return out.getvalue()


def decode_body(event_type: str, body: bytes, *, minorversion: int = 0) -> dict[str, Any]:
    """The record in `body`; WireError if it is not valid Avro for the type's schema.

    Bytes left over mean a different writer schema. A later minor version may append optional
    fields, which this reader can ignore; at minor version 0 they mean a corrupt body.
    """
    stream = io.BytesIO(body)
    try:
        record = fastavro.schemaless_reader(stream, schema(event_type), None)
    except Exception as exc:  # fastavro raises assorted errors (EOF, UnicodeDecodeError, ...)
        raise WireError(f"body is not valid Avro ({type(exc).__name__}: {exc})") from None
    if minorversion == 0 and stream.tell() != len(body):
        raise WireError(f"{len(body) - stream.tell()} bytes left after the Avro record")
    if not isinstance(record, dict):
        raise WireError("body is not an Avro record")
    return record


def entry(metadata: Metadata, body: bytes) -> dict[bytes, bytes]:
    """The fields of one stream entry: metadata first, body last (as the library writes them)."""
    fields = metadata.fields()
    fields[BODY_FIELD] = body
    return fields
