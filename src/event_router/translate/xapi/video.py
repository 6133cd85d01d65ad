"""Video: a learner loads, plays, pauses, stops, completes or seeks a video, or toggles captions.

Example: "Learner 32e08e30… paused http://lms/xblock/block-v1:edX+DemoX+Demo_Course+type@video+block@0b9e…
at 194.407 s (video length 195.0 s)."
The legacy browser names (`play_video`, ...) and the newer `edx.video.*` names translate alike. The
object is the video block, the video's length is a context extension, and the result carries the
position (`time`), the seek span (`time-from`/`time-to`), the caption state or the speed change.
"""

from __future__ import annotations

import math
from typing import Any

from event_router.events import TrackingEvent
from event_router.translate.errors import TranslationError
from event_router.translate.iri import iri_safe
from event_router.translate.options import Options
from event_router.translate.xapi import vocabulary as v
from event_router.translate.xapi.common import (
    Json,
    activity,
    block_iri,
    block_usage_key,
    data_of,
    prune,
    registry,
    require_course,
    seconds,
    shared,
    statement,
)

_VERBS = {
    "load_video": v.INITIALIZED,
    "edx.video.loaded": v.INITIALIZED,
    "play_video": v.PLAYED,
    "edx.video.played": v.PLAYED,
    "pause_video": v.PAUSED,
    "edx.video.paused": v.PAUSED,
    "stop_video": v.TERMINATED,
    "edx.video.stopped": v.TERMINATED,
    "complete_video": v.COMPLETED,
    "edx.video.completed": v.COMPLETED,
    "seek_video": v.SEEKED,
    "edx.video.position.changed": v.SEEKED,
    "speed_change_video": v.INTERACTED,
}
# Caption and transcript toggles, and whether each one leaves captions on.
_CAPTIONS_ON = {
    "show_transcript": True,
    "edx.video.transcript.shown": True,
    "video_show_cc_menu": True,
    "edx.video.closed_captions.shown": True,
    "hide_transcript": False,
    "edx.video.transcript.hidden": False,
    "video_hide_cc_menu": False,
    "edx.video.closed_captions.hidden": False,
}
_PLAYBACK = frozenset(
    {
        "play_video",
        "edx.video.played",
        "pause_video",
        "edx.video.paused",
        "stop_video",
        "edx.video.stopped",
    }
)
_COMPLETED = frozenset({"complete_video", "edx.video.completed"})
_SEEKED = frozenset({"seek_video", "edx.video.position.changed"})


def absent(value: Any) -> bool:
    """ERB's notion of a missing field: None or an empty value, but not the number 0."""
    return value is None or (not value and value != 0)


def video_seconds(value: Any) -> float | None:
    """A video time in seconds (3 decimals, as ERB reports them), None when absent."""
    if absent(value):
        return None
    number = seconds(value)
    if number is not None and not math.isfinite(number):
        raise TranslationError(f"{value!r} is not a finite number of seconds")
    return number


def position(data: Json) -> float | None:
    """The playhead: `current_time` (browser) unless unset or 0, then `currentTime` (mobile).

    The order and the "0 counts as unset" rule are ERB's, kept so that the output matches.
    """
    return video_seconds(data.get("current_time") or data.get("currentTime"))


def xapi_duration(total: float) -> str | None:
    """Seconds as an xAPI `result.duration`, in ERB's layout (`PT03M15S`, `P1DT01H00M00S`).

    xAPI durations carry at most hundredths of a second, so finer digits are truncated (an LRS
    truncates them too); a negative span has no ISO 8601 duration and is left out.
    """
    if total < 0:
        return None
    hundredths = round(total * 1000) // 10
    whole, fraction = divmod(hundredths, 100)
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    out = f"P{days}DT" if days else "PT"
    if days or hours:
        out += f"{hours:02d}H"
    if days or hours or minutes:
        out += f"{minutes:02d}M"
    out += f"{secs:02d}"
    if fraction:
        out += f".{fraction:02d}".rstrip("0")
    return out + "S"


def _speed(value: Any) -> str | None:
    """`1.25x` from "1.25" (or 1.25: ERB fails on numbers); None when absent or not a number."""
    if absent(value) or isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return f"{value}x"


def identifier(value: Any, what: str) -> str:
    """An id from the payload: a non-blank string or an integer, else the event is refused."""
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TranslationError(f"event has no {what}")


def video_iri(event: TrackingEvent, options: Options, data: Json) -> str:
    """The video block the event is about, from the course key (CCX too) and the video's id."""
    course_id = require_course(event)
    video_id = identifier(data.get("id"), "video id (data.id)")
    return iri_safe(block_iri(options, block_usage_key(course_id, "video", video_id)))


def _result(name: str, data: Json) -> Json | None:
    if name in _PLAYBACK:
        return {"extensions": {v.EXT_VIDEO_TIME: position(data)}}
    if name in _CAPTIONS_ON:
        return {
            "extensions": {
                v.EXT_VIDEO_TIME: position(data),
                v.EXT_VIDEO_CC_ENABLED: _CAPTIONS_ON[name],
            }
        }
    if name in _COMPLETED:
        length = video_seconds(data.get("duration"))
        return {
            "extensions": {v.EXT_VIDEO_TIME: length},
            "completion": True,
            "duration": None if length is None else xapi_duration(length),
        }
    if name in _SEEKED:
        return {
            "extensions": {
                v.EXT_VIDEO_TIME_FROM: video_seconds(data.get("old_time")),
                v.EXT_VIDEO_TIME_TO: video_seconds(data.get("new_time")),
            }
        }
    if name == "speed_change_video":
        return {
            "extensions": {
                v.EXT_VIDEO_SPEED_FROM: _speed(data.get("old_speed")),
                v.EXT_VIDEO_SPEED_TO: _speed(data.get("new_speed")),
            }
        }
    return None  # loaded: no result


# The events watched segments are computed from (Aspects: played, paused, stopped, seeked,
# completed), which also take the video's length from the statement.
_SEGMENTS = _PLAYBACK | _COMPLETED | _SEEKED


def require_complete(name: str, data: Json) -> None:
    """Refuse a playback event that lacks what downstream figures are computed from.

    Analytics (Aspects' video segments) take the video's length from the playback statements:
    one without it makes every segment of that video 0 s long. A seek needs both ends to make a
    segment. Loads, caption toggles and speed changes feed no such figure and are kept.
    """
    if name not in _SEGMENTS:
        return
    if absent(data.get("duration")):
        raise TranslationError("event data has no video duration: the video would count as 0 s")
    if name in _SEEKED:
        start = data.get("old_time")
        if absent(start):  # the mobile app names the start of a seek `currentTime`
            start = data.get("currentTime", data.get("current_time"))
        if absent(start) or absent(data.get("new_time")):
            raise TranslationError("seek without its start or its target time (old_time, new_time)")


@registry.register(*_VERBS, *_CAPTIONS_ON)
def video(event: TrackingEvent, options: Options) -> list[Json]:
    data = data_of(event)
    require_complete(event.name, data)
    video_id = data.get("id")
    if type(video_id) is str:  # the usual case: one object per video, shared
        key = ("video", event.course_id, video_id)
        obj = shared(options, key, lambda: activity(video_iri(event, options, data), v.VIDEO))
    else:
        obj = prune(activity(video_iri(event, options, data), v.VIDEO))
    verb = _VERBS.get(event.name, v.INTERACTED)
    return [
        statement(
            event,
            options,
            verb,
            obj,
            result=_result(event.name, data),
            extensions={v.EXT_VIDEO_LENGTH: video_seconds(data.get("duration"))},
            object_pruned=True,
        )
    ]
