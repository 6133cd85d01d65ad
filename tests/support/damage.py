"""Damaged events for the property tests of translation: an ERB fixture with fields dropped,
retyped, re-timed or moved to another course, and the check that the output is valid or refused
with a reason."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import orjson
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from event_router.events import TrackingEvent, normalise
from event_router.events.normalise import NormaliseError
from event_router.translate import Options, TranslationError, translate_bytes
from event_router.translate.caliper.common import Envelope
from tests.conftest import erb_event
from tests.validation import (
    assert_valid_caliper_envelope,
    assert_valid_caliper_event,
    assert_valid_xapi,
)

SENSOR = "http://localhost:18000/event-router"


SENT = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


EXAMPLES_PER_PROTOCOL = 300


def assert_valid(protocol: str, outputs: list[dict[str, Any]]) -> None:
    if protocol == "xapi":
        for statement in outputs:
            assert_valid_xapi(statement)
    else:
        for event in outputs:
            assert_valid_caliper_event(event)
        if outputs:
            wrapped = Envelope(SENSOR, clock=lambda: SENT).wrap([orjson.dumps(o) for o in outputs])
            assert_valid_caliper_envelope(orjson.loads(wrapped))


COURSE = "course-v1:edX+DemoX+Demo_Course"


CCX = "ccx-v1:edX+DemoX+Demo_Course+ccx@2"


COURSE_KEYS = [
    CCX,
    COURSE,
    "course-v1:testX+XAPI101+2019_T2",
    "course-v1:Other+Course+Run",
    "edX/DemoX/Demo_Course",  # old-style key
    "not a course key",
    "",
    None,
    0,
]


# Values a field may take in a damaged or unusual event.
ODD_VALUES: list[Any] = [
    None,
    0,
    0.0,
    "",
    " ",
    -1,
    -1.5,
    10**20,
    1e308,
    -1e308,
    True,
    False,
    "string",
    "12.5",
    "-3",
    "ünï cødé ☃ \U0001f600",
    "a b<c>\"d'{e}|\\",
    "http://example.com/x",
    "x" * 2000,
    [],
    {},
    ["a", 1],
    {"nested": {"value": None}},
]


TIMESTAMPS = [
    "2023-01-01T00:00:00Z",
    "2023-01-01T00:00:00.123456+05:30",
    "2023-06-30T23:59:59.999999-08:00",
    "2023-01-01T00:00:00",
    "2023-01-01 12:30:45.5",
    "2024-02-29T12:00:00.5+01:00",
    "1970-01-01T00:00:00+00:00",
    "2023-07-10T09:23:10.354202+14:00",
]


REQUEST_FIELDS = (
    "username",
    "session",
    "ip",
    "host",
    "agent",
    "referer",
    "accept_language",
    "page",
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into the event's payload and context (the parts a mutation may touch)."""
    found: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.append((*prefix, key))
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.append((*prefix, index))
            found.extend(_paths(item, (*prefix, index)))
    return found


def _payload_key(raw: dict[str, Any]) -> str:
    return "data" if "data" in raw else "event"


def _mutable_paths(raw: dict[str, Any]) -> list[tuple[Any, ...]]:
    key = _payload_key(raw)
    payload = raw.get(key)
    paths: list[tuple[Any, ...]] = [(key,)]
    if isinstance(payload, dict | list):
        paths += _paths(payload, (key,))
    if isinstance(raw.get("context"), dict):
        paths += _paths(raw["context"], ("context",))
    paths += [(field,) for field in REQUEST_FIELDS if field in raw]
    return paths


def _parent(raw: dict[str, Any], path: tuple[Any, ...]) -> Any:
    node: Any = raw
    for part in path[:-1]:
        node = node[part]
    return node


def _drop(raw: dict[str, Any], path: tuple[Any, ...]) -> None:
    parent = _parent(raw, path)
    if isinstance(parent, dict):
        parent.pop(path[-1], None)
    elif isinstance(parent, list) and path[-1] < len(parent):
        del parent[path[-1]]


def _assign(raw: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    parent = _parent(raw, path)
    if isinstance(parent, dict) or (isinstance(parent, list) and path[-1] < len(parent)):
        parent[path[-1]] = value


def _swap_course(raw: dict[str, Any], new_key: Any, everywhere: bool) -> dict[str, Any]:
    if everywhere and isinstance(new_key, str) and new_key.startswith("ccx-v1:"):
        # The CCX run everywhere: course key, usage keys and URLs, as the LMS would write them.
        text = json.dumps(raw)
        text = text.replace(
            "block-v1:edX+DemoX+Demo_Course", "ccx-block-v1:edX+DemoX+Demo_Course+ccx@2"
        )
        text = text.replace(COURSE, CCX)
        changed: dict[str, Any] = json.loads(text)
        return changed
    if isinstance(raw.get("context"), dict):
        raw["context"]["course_id"] = new_key
    return raw


def _as_tracking_log(raw: dict[str, Any], payload_as_string: bool) -> dict[str, Any]:
    """The tracking.log layout: `event_type`, `time`, `event` (often a JSON string), request
    fields at the top level."""
    stamp = raw.get("timestamp") or raw.get("time")
    if "data" not in raw or not isinstance(raw.get("context"), dict | None) or stamp is None:
        return raw
    context = dict(raw.get("context") or {})
    line: dict[str, Any] = {
        "name": raw["name"],
        "event_type": raw["name"],
        "time": stamp,
        "event": json.dumps(raw["data"]) if payload_as_string else raw["data"],
        "context": {k: v for k, v in context.items() if k not in REQUEST_FIELDS},
    }
    line.update({k: context[k] for k in REQUEST_FIELDS if k in context})
    return line


def _set_time(raw: dict[str, Any], stamp: str) -> None:
    raw["timestamp" if "timestamp" in raw else "time"] = stamp


@st.composite
def damaged_events(draw: st.DrawFn, fixtures: list[str]) -> dict[str, Any]:
    raw: dict[str, Any] = copy.deepcopy(erb_event(draw(st.sampled_from(fixtures))).raw)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        kind = draw(st.sampled_from(["drop", "set", "course", "layout", "time"]))
        if kind in ("drop", "set"):
            paths = _mutable_paths(raw)
            path = draw(st.sampled_from(paths))
            if kind == "drop":
                _drop(raw, path)
            else:
                _assign(raw, path, copy.deepcopy(draw(st.sampled_from(ODD_VALUES))))
        elif kind == "course":
            raw = _swap_course(raw, draw(st.sampled_from(COURSE_KEYS)), draw(st.booleans()))
        elif kind == "layout":
            raw = _as_tracking_log(raw, payload_as_string=draw(st.booleans()))
        else:
            _set_time(raw, draw(st.sampled_from(TIMESTAMPS)))
    return raw


def _normalised(raw: dict[str, Any]) -> TrackingEvent | None:
    try:
        return normalise(raw)
    except NormaliseError:
        return None  # refused at ingest: never reaches a translation


def _check(protocol: str, raw: dict[str, Any], options: Options) -> None:
    event = _normalised(raw)
    if event is None:
        return
    try:  # as the router sends them: what JSON cannot carry (a 2**70 tab count) is refused
        outputs = [orjson.loads(item) for item in translate_bytes(event, protocol, options)]
    except TranslationError:
        return
    assert isinstance(outputs, list)
    try:
        assert_valid(protocol, outputs)
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}\n--- from this event ---\n{json.dumps(raw, indent=1)}"
        ) from None


PROPERTY_SETTINGS = settings(
    max_examples=EXAMPLES_PER_PROTOCOL,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
