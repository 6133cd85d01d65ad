"""Reading what a tracking event says, the same for both protocols: the payload as an object,
numbers, seconds, ids, the block a browser event names in its referer or form, and which video
events are incomplete. The xAPI and Caliper modules (hand-written and tables) read payloads through
here, never through each other; `prune` drops what neither protocol may carry (empty values).
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qs, urlsplit

from event_router.events import TrackingEvent
from event_router.translate.errors import TranslationError

Json = dict[str, Any]


def data_of(event: TrackingEvent) -> Json:
    """The payload as an object; events whose translation needs fields refuse anything else."""
    if isinstance(event.data, dict):
        return event.data
    raise TranslationError(f"event data is a {type(event.data).__name__}, not an object")


def require_course(event: TrackingEvent) -> str:
    course_id = event.course_id
    if course_id is None:
        raise TranslationError("event has no course_id in its context")
    return course_id


def required(data: Json, key: str) -> Any:
    """A payload field ERB requires to be present (its value may still be null)."""
    if key not in data:
        raise TranslationError(f"event data has no {key}")
    return data[key]


def problem_usage_key(data: Json) -> str | None:
    """`problem_id`, else `module_id`, of a problem event's payload."""
    value = data.get("problem_id") or data.get("module_id")
    return value if isinstance(value, str) else None


def seconds(value: Any) -> float | None:
    """A duration in seconds rounded to milliseconds, as ERB reports video times; None if absent."""
    kind = type(value)
    if kind is int:
        return float(value)  # already whole: rounding (slow in CPython) changes nothing
    if value is None or value == "" or kind is bool:
        return None
    try:
        return round(float(value), 3)
    except (TypeError, ValueError):
        raise TranslationError(f"{value!r} is not a number of seconds") from None


def block_usage_key(course_id: str, block_type: str, block_id: str) -> str:
    """`block-v1:<org+course+run>+type@<type>+block@<id>` for a course key, CCX ones included."""
    prefix, _, rest = course_id.partition(":")
    if not rest:
        raise TranslationError(f"course_id {course_id!r} is not a course key")
    version = "block-" + prefix.split("-")[-1]
    if "ccx" in prefix:
        version = "ccx-" + version
    return f"{version}:{rest}+type@{block_type}+block@{block_id}"


def prune(value: Json) -> Json:
    """Drop None, empty strings and empty containers, recursively (xAPI forbids empty values)."""
    out: Json = {}
    for key, item in value.items():
        if item is None:
            continue
        kind = type(item)
        if kind is str:
            if item:
                out[key] = item
        elif kind is dict:
            if item and (item := prune(item)):
                out[key] = item
        elif kind is list:
            if item:
                out[key] = [prune(x) if type(x) is dict else x for x in item]
        else:
            out[key] = item
    return out


PLAYBACK_EVENTS = frozenset(
    {
        "play_video",
        "edx.video.played",
        "pause_video",
        "edx.video.paused",
        "stop_video",
        "edx.video.stopped",
    }
)


COMPLETED_EVENTS = frozenset({"complete_video", "edx.video.completed"})


SEEK_EVENTS = frozenset({"seek_video", "edx.video.position.changed"})


def absent(value: Any) -> bool:
    """ERB's notion of a missing field: None or an empty value, but not the number 0."""
    return value is None or (not value and value != 0)


def identifier(value: Any, what: str) -> str:
    """An id from the payload: a non-blank string or an integer, else the event is refused."""
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TranslationError(f"event has no {what}")


def video_seconds(value: Any) -> float | None:
    """A video time in seconds (3 decimals, as ERB reports them), None when absent."""
    if absent(value):
        return None
    number = seconds(value)
    if number is not None and not math.isfinite(number):
        raise TranslationError(f"{value!r} is not a finite number of seconds")
    return number


# The events watched segments are computed from (Aspects: played, paused, stopped, seeked,
# completed), which also take the video's length from the statement.
SEGMENT_EVENTS = PLAYBACK_EVENTS | COMPLETED_EVENTS | SEEK_EVENTS


def require_complete(name: str, data: Json) -> None:
    """Refuse a playback event that lacks what downstream figures are computed from.

    Analytics (Aspects' video segments) take the video's length from the playback statements:
    one without it makes every segment of that video 0 s long. A seek needs both ends to make a
    segment. Loads, caption toggles and speed changes feed no such figure and are kept.
    """
    if name not in SEGMENT_EVENTS:
        return
    if absent(data.get("duration")):
        raise TranslationError("event data has no video duration: the video would count as 0 s")
    if name in SEEK_EVENTS:
        start = data.get("old_time")
        if absent(start):  # the mobile app names the start of a seek `currentTime`
            start = data.get("currentTime", data.get("current_time"))
        if absent(start) or absent(data.get("new_time")):
            raise TranslationError("seek without its start or its target time (old_time, new_time)")


def text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def target_url(data: Json) -> str:
    url = data.get("target_url")
    if not isinstance(url, str) or not url.strip():
        raise TranslationError("navigation event has no target_url (a non-empty string)")
    return url


def number(value: Any, field: str) -> float | int | None:
    """A JSON number from the payload, None when absent; anything else is refused."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TranslationError(f"{field} is not a number")
    return value


_BLOCK_QUERY_KEY = "activate_block_id"


def referer_block_id(referer: Any) -> str | None:
    """The usage key in the referer's `activate_block_id` query parameter, if it has one."""
    if not isinstance(referer, str) or _BLOCK_QUERY_KEY not in referer:
        return None
    values = parse_qs(urlsplit(referer).query).get(_BLOCK_QUERY_KEY)
    return values[0] if values else None


def form_block_id(data: Any, course_id: str | None) -> str | None:
    """The problem named by a browser form `input_<block id>_<n>_<m>=…` (ERB: the 2nd `_` part)."""
    if not isinstance(data, str) or course_id is None:
        return None
    parts = data.split("_", 2)
    if len(parts) < 2:
        return None
    return block_usage_key(course_id, "problem", parts[1])
