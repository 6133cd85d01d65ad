"""Video (ERB's): a learner loads, plays, pauses, stops, completes or seeks a video, changes its
speed, or toggles transcripts and captions.

Example: "Learner 32e08e30… paused http://lms/xblock/block-v1:edX+DemoX+Demo_Course+type@video+block@0b9e…
at 194.407 s (video length 195.0 s)"; in Caliper MediaEvent/Paused on the VideoObject (PT3M15S
long), target MediaLocation at PT3M14.407359S.
The legacy browser names (`play_video`, ...) and the mobile app's `edx.video.*` names translate
alike. The object is the video block (one shared activity per video), its length a context
extension, and the result carries the position (`time`), the seek span (`time-from`/`time-to`),
the caption state or the speed change. The language menus are in `courseware` (ERB never
translated them).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from event_router.events import TrackingEvent
from event_router.translate.caliper.common import duration
from event_router.translate.iri import video_iri
from event_router.translate.options import Options
from event_router.translate.payload import (
    Json,
    absent,
    data_of,
    prune,
    require_complete,
    video_seconds,
)
from event_router.translate.samples import About, Sample
from event_router.translate.table import Caliper, PartFn, Row, Target, activity, register, shared
from event_router.translate.xapi import vocabulary as v


def video(event: TrackingEvent, options: Options, data: Json) -> Target:
    """The video block, from the course key (CCX too) and the video's id."""
    return Target(video_iri(event, options, data))


def _complete(event: TrackingEvent) -> None:
    """Refuse a playback event without the video's length, or a seek without its ends."""
    require_complete(event.name, data_of(event))


def _shared_video(event: TrackingEvent, options: Options, data: Json, kind: str) -> Json:
    """The video as an activity, built once per video and shared (clean, never mutated)."""
    video_id = data.get("id")
    if type(video_id) is str:  # the usual case: one object per video, shared
        key = ("video", event.course_id, video_id)
        return shared(options, key, lambda: activity(video_iri(event, options, data), kind))
    return prune(activity(video_iri(event, options, data), kind))


# --- xAPI result and context extensions -------------------------------------------------------


def position(data: Json) -> float | None:
    """The playhead: `current_time` (browser) unless unset or 0, then `currentTime` (mobile).

    The order and the "0 counts as unset" rule are ERB's, kept so that the output matches.
    """
    return video_seconds(data.get("current_time") or data.get("currentTime"))


_LONGEST = (timedelta.max - timedelta(seconds=1)).total_seconds()  # one second short: rounding


def xapi_duration(total: float) -> str | None:
    """Seconds as an xAPI `result.duration`, in ERB's layout (`PT03M15S`, `P1DT01H00M00S`).

    xAPI durations carry at most hundredths of a second, so finer digits are truncated (an LRS
    truncates them too); a negative span has no ISO 8601 duration, and one beyond what an LRS
    can hold (Ralph's limit: `timedelta.max`, 2.7 million years) is a damaged value: both are
    left out.
    """
    if total < 0 or total > _LONGEST:
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


def _playhead(data: Json) -> Json | None:
    return {"extensions": {v.EXT_VIDEO_TIME: position(data)}}


def _captions(on: bool) -> PartFn:
    """The playhead and whether the toggle leaves captions (or the transcript) on."""

    def part(data: Json) -> Json | None:
        return {"extensions": {v.EXT_VIDEO_TIME: position(data), v.EXT_VIDEO_CC_ENABLED: on}}

    return part


def _completed(data: Json) -> Json | None:
    length = video_seconds(data.get("duration"))
    return {
        "extensions": {v.EXT_VIDEO_TIME: length},
        "completion": True,
        "duration": None if length is None else xapi_duration(length),
    }


def _seek(data: Json) -> Json | None:
    return {
        "extensions": {
            v.EXT_VIDEO_TIME_FROM: video_seconds(data.get("old_time")),
            v.EXT_VIDEO_TIME_TO: video_seconds(data.get("new_time")),
        }
    }


def _speed_change(data: Json) -> Json | None:
    return {
        "extensions": {
            v.EXT_VIDEO_SPEED_FROM: _speed(data.get("old_speed")),
            v.EXT_VIDEO_SPEED_TO: _speed(data.get("new_speed")),
        }
    }


def _length(data: Json) -> Json | None:
    return {v.EXT_VIDEO_LENGTH: video_seconds(data.get("duration"))}


# --- Caliper: the VideoObject, the MediaLocation target, the speeds ----------------------------

# ERB names the media location with one fixed blank-node id (JSON-LD allows it; Caliper too).
_LOCATION_ID = "_:MediaLocation"


def _media_time(value: Any) -> str | None:
    """Seconds as an ISO 8601 duration with every digit the source gave (ERB does not round)."""
    if video_seconds(value) is None:  # absent; refuses non-numbers
        return None
    return duration(value)


def _video_object(event: TrackingEvent, options: Options, data: Json, entity: str) -> Json:
    return {
        "id": video_iri(event, options, data),
        "type": entity,
        # ERB reads a missing length as 0 (`P0D`) but an explicit null as unknown (only events
        # that feed no watched-segment figure get here without one: see `require_complete`).
        "duration": _media_time(data.get("duration", 0)),
    }


def _at_playhead(data: Json) -> Json | None:
    # Here ERB reads the mobile `currentTime` first, the reverse of its xAPI order.
    return {
        "id": _LOCATION_ID,
        "type": "MediaLocation",
        "currentTime": _media_time(data.get("currentTime") or data.get("current_time")),
    }


def _seek_span(data: Json) -> Json | None:
    # ERB's order: the mobile `currentTime` unless unset or 0, then `old_time`.
    current = data.get("currentTime") or data.get("old_time")
    return {
        "id": _LOCATION_ID,
        "type": "MediaLocation",
        "currentTime": _media_time(current),
        "extensions": {"newTime": _media_time(data.get("new_time"))},
    }


def _speeds(data: Json) -> Json | None:
    speeds = {"oldSpeed": data.get("old_speed"), "newSpeed": data.get("new_speed")}
    return {k: s for k, s in speeds.items() if not absent(s)}


def _media(action: str, target: PartFn = _at_playhead, extensions: PartFn | None = None) -> Caliper:
    return Caliper(
        "MediaEvent", action, "VideoObject", extensions=extensions, obj=_video_object, target=target
    )


def _row(name: str, verb: v.Verb, result: PartFn | None, caliper: Caliper) -> Row:
    """A video row: about the shared video activity, its length as context extension, refused
    without what watched segments are computed from (`require_complete`)."""
    return Row(
        name,
        verb,
        v.VIDEO,
        video,
        result=result,
        extensions=_length,
        caliper=caliper,
        check=_complete,
        obj=_shared_video,
    )


_CAPTIONS_ON, _CAPTIONS_OFF = _captions(True), _captions(False)
_CC_ON, _CC_OFF = _media("EnabledClosedCaptioning"), _media("DisabledClosedCaptioning")

ROWS = (
    # name, xAPI verb, result, Caliper action (and target, extensions)
    _row("load_video", v.INITIALIZED, None, _media("Started")),
    _row("edx.video.loaded", v.INITIALIZED, None, _media("Started")),
    _row("play_video", v.PLAYED, _playhead, _media("Resumed")),
    _row("edx.video.played", v.PLAYED, _playhead, _media("Resumed")),
    _row("pause_video", v.PAUSED, _playhead, _media("Paused")),
    _row("edx.video.paused", v.PAUSED, _playhead, _media("Paused")),
    _row("stop_video", v.TERMINATED, _playhead, _media("Ended")),
    _row("edx.video.stopped", v.TERMINATED, _playhead, _media("Ended")),
    _row("complete_video", v.COMPLETED, _completed, _media("Ended")),
    _row("edx.video.completed", v.COMPLETED, _completed, _media("Ended")),
    _row("seek_video", v.SEEKED, _seek, _media("JumpedTo", _seek_span)),
    _row("edx.video.position.changed", v.SEEKED, _seek, _media("JumpedTo", _seek_span)),
    _row(
        "speed_change_video",
        v.INTERACTED,
        _speed_change,
        _media("ChangedSpeed", extensions=_speeds),
    ),
    _row("show_transcript", v.INTERACTED, _CAPTIONS_ON, _CC_ON),
    _row("edx.video.transcript.shown", v.INTERACTED, _CAPTIONS_ON, _CC_ON),
    _row("video_show_cc_menu", v.INTERACTED, _CAPTIONS_ON, _CC_ON),
    _row("edx.video.closed_captions.shown", v.INTERACTED, _CAPTIONS_ON, _CC_ON),
    _row("hide_transcript", v.INTERACTED, _CAPTIONS_OFF, _CC_OFF),
    _row("edx.video.transcript.hidden", v.INTERACTED, _CAPTIONS_OFF, _CC_OFF),
    _row("video_hide_cc_menu", v.INTERACTED, _CAPTIONS_OFF, _CC_OFF),
    _row("edx.video.closed_captions.hidden", v.INTERACTED, _CAPTIONS_OFF, _CC_OFF),
)


# Each event as the LMS logs it: the web player's names (legacy, and `closed_captions`, as in ERB's
# fixtures) from the browser, the other `edx.video.*` names from the mobile app. The load
# generator (generate/video.py) writes these fields, in this order.
def _payload(a: About, **more: Any) -> Json:
    return {"id": a.block.rsplit("@", 1)[-1], "code": "html5", "duration": 195.0, **more}


def _browser(**more: Any) -> Sample:
    return Sample("browser", "video", lambda a: _payload(a, **more))


def _mobile(**more: Any) -> Sample:
    return Sample("mobile", "video", lambda a: _payload(a, **more))


_AT, _END = {"currentTime": 12.5}, {"currentTime": 195.0}
_CC = {"current_time": 12.5}
_SEEK = {"old_time": 12.5, "new_time": 30.0, "type": "onSlideSeek"}

SAMPLES = {
    "load_video": _browser(),
    "edx.video.loaded": _mobile(),
    "play_video": _browser(**_AT),
    "edx.video.played": _mobile(**_AT),
    "pause_video": _browser(**_AT),
    "edx.video.paused": _mobile(**_AT),
    "stop_video": _browser(**_END),
    "edx.video.stopped": _mobile(**_END),
    "complete_video": _browser(),
    "edx.video.completed": _mobile(),
    "seek_video": _browser(**_SEEK),
    "edx.video.position.changed": _mobile(**_SEEK),
    # The LMS writes `current_time`; Ralph's model of the event wants `currentTime` as well.
    "speed_change_video": _browser(
        current_time=12.5, currentTime=12.5, old_speed="1.0", new_speed="1.25"
    ),
    "show_transcript": _browser(**_CC),
    "edx.video.transcript.shown": _mobile(**_CC),
    "video_show_cc_menu": _browser(**_CC),
    "edx.video.closed_captions.shown": _browser(**_CC),
    "hide_transcript": _browser(**_CC),
    "edx.video.transcript.hidden": _mobile(**_CC),
    "video_hide_cc_menu": _browser(**_CC),
    "edx.video.closed_captions.hidden": _browser(**_CC),
}

register(ROWS, SAMPLES)
