"""Video: a learner loads, plays, pauses, stops, completes or seeks a video, or toggles captions.

Example: "Learner 32e08e30… paused http://lms/xblock/block-v1:edX+DemoX+Demo_Course+type@video+block@0b9e…
at 194.407 s (video length 195.0 s)."
The legacy browser names (`play_video`, ...) and the newer `edx.video.*` names translate alike. The
object is the video block, the video's length is a context extension, and the result carries the
position (`time`), the seek span (`time-from`/`time-to`), the caption state or the speed change.
"""

from __future__ import annotations

from typing import Any

from event_router.events import TrackingEvent
from event_router.translate.iri import video_iri
from event_router.translate.options import Options
from event_router.translate.payload import (
    COMPLETED_EVENTS,
    PLAYBACK_EVENTS,
    SEEK_EVENTS,
    Json,
    absent,
    data_of,
    prune,
    require_complete,
    video_seconds,
)
from event_router.translate.xapi import vocabulary as v
from event_router.translate.xapi.common import activity, registry, shared, statement

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


def _result(name: str, data: Json) -> Json | None:
    if name in PLAYBACK_EVENTS:
        return {"extensions": {v.EXT_VIDEO_TIME: position(data)}}
    if name in _CAPTIONS_ON:
        return {
            "extensions": {
                v.EXT_VIDEO_TIME: position(data),
                v.EXT_VIDEO_CC_ENABLED: _CAPTIONS_ON[name],
            }
        }
    if name in COMPLETED_EVENTS:
        length = video_seconds(data.get("duration"))
        return {
            "extensions": {v.EXT_VIDEO_TIME: length},
            "completion": True,
            "duration": None if length is None else xapi_duration(length),
        }
    if name in SEEK_EVENTS:
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
