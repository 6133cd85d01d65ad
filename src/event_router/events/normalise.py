"""Turn whatever a source read into a `TrackingEvent`, or a precise reason why not.

Two layouts reach the router. The event-tracking / event-bus layout has `name`, `timestamp`,
`data` and `context`. The tracking-log layout (what the LMS writes to `tracking.log`) has
`event_type`, `time`, the payload under `event` (often a JSON *string*), and the request fields
(`username`, `session`, `ip`, `agent`, `host`, `referer`, `accept_language`, `page`,
`event_source`) at the top level; log lines may also carry a logger prefix before the JSON.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from event_router.events.model import TrackingEvent

# Request fields a tracking-log line keeps at the top level; folded into `context` when present.
_TOP_LEVEL_FIELDS = (
    "username",
    "session",
    "ip",
    "agent",
    "host",
    "referer",
    "accept_language",
    "page",
    "event_source",
)
_MAX_NAME_LENGTH = 255


class NormaliseError(ValueError):
    """Input that is not a usable tracking event. `reason` says why, in a few words."""

    def __init__(self, reason: str, name: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.name = name

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}" if self.name else self.reason


def parse_time(value: Any) -> datetime:
    """Parse an ISO 8601 timestamp; naive times are taken as UTC (the LMS writes UTC)."""
    if not isinstance(value, str) or not value:
        raise NormaliseError("timestamp is missing or not a string")
    text = value.strip()
    if " " in text and "T" not in text:
        text = text.replace(" ", "T", 1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise NormaliseError(f"timestamp {value!r} is not ISO 8601") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _payload(raw: dict[str, Any], name: str) -> Any:
    if "data" in raw:
        return raw["data"]
    payload = raw.get("event")
    if isinstance(payload, str):
        stripped = payload.lstrip()
        if stripped[:1] in ("{", "["):
            try:
                return orjson.loads(payload)
            except orjson.JSONDecodeError:
                raise NormaliseError("`event` looks like JSON but does not parse", name) from None
        if stripped[:1] == '"':
            # A JSON string literal wrapping the payload (seen on the event bus).
            try:
                inner = orjson.loads(payload)
            except orjson.JSONDecodeError:
                return payload
            return _payload({"event": inner}, name) if isinstance(inner, str) else inner
    return {} if payload is None else payload


def normalise(raw: Any) -> TrackingEvent:
    """Build the internal shape from one decoded JSON value; raise `NormaliseError` if unusable."""
    if not isinstance(raw, dict):
        raise NormaliseError(f"expected a JSON object, got {type(raw).__name__}")
    name = raw.get("name") or raw.get("event_type")
    # A tracking-log line for an AJAX handler names the URL path; `event_type` then is the name.
    if isinstance(name, str) and name.startswith("/") and isinstance(raw.get("event_type"), str):
        name = raw["event_type"]
    if not isinstance(name, str) or not name.strip():
        raise NormaliseError("event has no name (`name` or `event_type`)")
    if len(name) > _MAX_NAME_LENGTH:
        raise NormaliseError(f"event name longer than {_MAX_NAME_LENGTH} characters")
    stamp = raw.get("timestamp") or raw.get("time")
    try:
        time = parse_time(stamp)
    except NormaliseError as exc:
        raise NormaliseError(exc.reason, name) from None
    context = raw.get("context")
    if context is None:
        context = {}
    elif isinstance(context, str):
        try:
            context = orjson.loads(context)
        except orjson.JSONDecodeError:
            raise NormaliseError("`context` is a string that is not JSON", name) from None
    if not isinstance(context, dict):
        raise NormaliseError("`context` is not an object", name)
    folded = None
    for key in _TOP_LEVEL_FIELDS:
        value = raw.get(key)
        if value is not None and value != "":
            if folded is None:
                folded = dict(context)
            folded[key] = value
    return TrackingEvent(
        name=name,
        timestamp=stamp,  # type: ignore[arg-type]  # checked by parse_time
        time=time,
        data=_payload(raw, name),
        context=folded if folded is not None else context,
        raw=raw,
    )


def parse_json(text: str | bytes) -> TrackingEvent:
    """Decode one JSON document and normalise it."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise NormaliseError(f"not valid JSON ({exc})") from None
    return normalise(value)


def line_json(line: str | bytes) -> bytes:
    """The JSON object text of a tracking-log line (after any logger prefix)."""
    data = line.encode() if isinstance(line, str) else line
    data = data.strip()
    if not data:
        raise NormaliseError("empty line")
    if data[:1] != b"{":
        start = data.find(b"{")
        if start < 0:
            raise NormaliseError("no JSON object on the line")
        data = data[start:]
    return data


def parse_line(line: str | bytes) -> TrackingEvent:
    """Normalise one tracking-log line: bare JSON, or JSON after a logger prefix."""
    return parse_json(line_json(line))
