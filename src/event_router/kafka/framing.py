"""Open edX event-bus records on Kafka, as edx-event-bus-kafka writes them (OEP-52).

- **value** (and key): Confluent framing, byte 0, a 4-byte big-endian schema id, then the same
  schemaless Avro body as on Redis (`event_router.bus.wire`);
- **headers**: the CloudEvents envelope, `ce_specversion`, `content-type`, `ce_datacontenttype`,
  then `ce_type`, `ce_id`, `ce_source`, `ce_time`, `ce_minorversion`, `sourcehost`, `sourcelib`;
- **subjects**: TopicRecordNameStrategy, `<topic>-<namespace>.CloudEvent` for values, and
  `<topic>-string` for the string keys.

The record body is decoded with the writer schema from the registry (by id) resolved against the
schema the router ships, so a producer on a newer minor version (fields added) still reads.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from typing import Any

import fastavro
import orjson

from event_router.bus.wire import Metadata, WireError, schema

MAGIC = 0
KEY_SCHEMA = orjson.dumps({"type": "string"}).decode()
_HEADER = struct.Struct(">bI")
_FIXED = (
    ("ce_specversion", b"1.0"),
    ("content-type", b"application/avro"),
    ("ce_datacontenttype", b"application/avro"),
)
_METADATA = (
    ("ce_type", "event_type"),
    ("ce_id", "id"),
    ("ce_source", "source"),
    ("ce_time", "time"),
    ("ce_minorversion", "minorversion"),
    ("sourcehost", "sourcehost"),
    ("sourcelib", "sourcelib"),
)

Headers = list[tuple[str, bytes]]


def frame(schema_id: int, body: bytes) -> bytes:
    """`body` behind the Confluent header for `schema_id`."""
    return _HEADER.pack(MAGIC, schema_id) + body


def unframe(value: bytes | None) -> tuple[int, bytes]:
    """(schema id, Avro body) of a framed value; WireError when it is not framed."""
    if value is None:
        raise WireError("record has no value")
    if len(value) < _HEADER.size or value[0] != MAGIC:
        raise WireError("value is not Confluent-framed Avro (no magic byte 0 and schema id)")
    _, schema_id = _HEADER.unpack_from(value)
    return schema_id, value[_HEADER.size :]


def value_subject(topic: str, event_type: str) -> str:
    """TopicRecordNameStrategy for the event type's `CloudEvent` record."""
    return f"{topic}-{event_type}.CloudEvent"


def key_subject(topic: str) -> str:
    return f"{topic}-string"


def schema_text(event_type: str) -> str:
    """The JSON text the router registers for `event_type` (keys sorted, like the library)."""
    from importlib import resources

    text = resources.files("event_router.bus").joinpath("schemas", f"{event_type}.avsc")
    return orjson.dumps(orjson.loads(text.read_bytes()), option=orjson.OPT_SORT_KEYS).decode()


def headers(metadata: Metadata) -> Headers:
    """The CloudEvents headers of one record, in the library's order."""
    out: Headers = list(_FIXED)
    for header, attribute in _METADATA:
        value = getattr(metadata, attribute)
        if value is not None:
            out.append((header, str(value).encode()))
    return out


def read_headers(raw: Sequence[tuple[str, bytes | None]] | None) -> Metadata:
    """The envelope of a record; `ce_type` is required and, like `ce_id`, must appear once."""
    found: dict[str, list[bytes | None]] = {}
    for name, value in raw or ():
        found.setdefault(name, []).append(value)
    values: dict[str, str | None] = {}
    for header, attribute in _METADATA:
        items = found.get(header, [])
        if len(items) > 1 and header in ("ce_type", "ce_id"):
            raise WireError(f"header {header!r} appears {len(items)} times")
        item = items[-1] if items else None
        try:
            values[attribute] = item.decode("utf-8") if item else None
        except UnicodeDecodeError:
            raise WireError(f"header {header!r} is not UTF-8") from None
    event_type = values.pop("event_type")
    if event_type is None:
        raise WireError("no `ce_type` header")
    minor = values.pop("minorversion")
    try:
        minorversion = int(minor) if minor is not None else 0
    except ValueError:
        raise WireError(f"ce_minorversion {minor!r} is not an integer") from None
    return Metadata(event_type=event_type, minorversion=minorversion, **values)


def decode_value(event_type: str, body: bytes, writer: Any | None) -> dict[str, Any]:
    """The record in `body`, written with `writer` (None: the shipped schema) and read as the
    router's shipped schema; WireError when it does not decode."""
    reader = schema(event_type)
    stream = io.BytesIO(body)
    try:
        record = fastavro.schemaless_reader(stream, writer or reader, reader)
    except Exception as exc:  # fastavro raises assorted errors (EOF, schema mismatch, ...)
        raise WireError(f"body is not valid Avro ({type(exc).__name__}: {exc})") from None
    if stream.tell() != len(body):
        raise WireError(f"{len(body) - stream.tell()} bytes left after the Avro record")
    if not isinstance(record, dict):
        raise WireError("body is not an Avro record")
    return record


def encode_key(schema_id: int, key: str) -> bytes:
    """A framed Avro string key."""
    out = io.BytesIO()
    fastavro.schemaless_writer(out, "string", key)
    return frame(schema_id, out.getvalue())
