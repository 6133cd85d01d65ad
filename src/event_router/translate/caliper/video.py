"""Video: MediaEvents on the video block (started, resumed, paused, ended, jumped, captions, speed).

Example: MediaEvent/Paused on VideoObject http://lms/xblock/block-v1:…+type@video+block@0b9e…
(PT3M15S long), target MediaLocation at PT3M14.407359S.
Legacy and `edx.video.*` names translate alike; the playhead is the target's `currentTime`.
"""

from __future__ import annotations

from typing import Any

from event_router.events import TrackingEvent
from event_router.translate.caliper.common import Json, caliper_event, duration, registry
from event_router.translate.iri import video_iri
from event_router.translate.options import Options
from event_router.translate.payload import (
    SEEK_EVENTS,
    absent,
    data_of,
    require_complete,
    video_seconds,
)

_ACTIONS = {
    "load_video": "Started",
    "edx.video.loaded": "Started",
    "play_video": "Resumed",
    "edx.video.played": "Resumed",
    "pause_video": "Paused",
    "edx.video.paused": "Paused",
    "stop_video": "Ended",
    "edx.video.stopped": "Ended",
    "complete_video": "Ended",
    "edx.video.completed": "Ended",
    "seek_video": "JumpedTo",
    "edx.video.position.changed": "JumpedTo",
    "hide_transcript": "DisabledClosedCaptioning",
    "edx.video.transcript.hidden": "DisabledClosedCaptioning",
    "video_hide_cc_menu": "DisabledClosedCaptioning",
    "edx.video.closed_captions.hidden": "DisabledClosedCaptioning",
    "show_transcript": "EnabledClosedCaptioning",
    "edx.video.transcript.shown": "EnabledClosedCaptioning",
    "video_show_cc_menu": "EnabledClosedCaptioning",
    "edx.video.closed_captions.shown": "EnabledClosedCaptioning",
    "speed_change_video": "ChangedSpeed",
}
# ERB names the media location with one fixed blank-node id (JSON-LD allows it; Caliper too).
_LOCATION_ID = "_:MediaLocation"


def _media_time(value: Any) -> str | None:
    """Seconds as an ISO 8601 duration with every digit the source gave (ERB does not round)."""
    if video_seconds(value) is None:  # absent; refuses non-numbers
        return None
    return duration(value)


def _target(name: str, data: Json) -> Json:
    if name in SEEK_EVENTS:
        # ERB's order: the mobile `currentTime` unless unset or 0, then `old_time`.
        current = data.get("currentTime") or data.get("old_time")
        return {
            "id": _LOCATION_ID,
            "type": "MediaLocation",
            "currentTime": _media_time(current),
            "extensions": {"newTime": _media_time(data.get("new_time"))},
        }
    # Here ERB reads the mobile `currentTime` first, the reverse of its xAPI order.
    return {
        "id": _LOCATION_ID,
        "type": "MediaLocation",
        "currentTime": _media_time(data.get("currentTime") or data.get("current_time")),
    }


@registry.register(*_ACTIONS)
def media_event(event: TrackingEvent, options: Options) -> list[Json]:
    data = data_of(event)
    require_complete(event.name, data)
    video = {
        "id": video_iri(event, options, data),
        "type": "VideoObject",
        # ERB reads a missing length as 0 (`P0D`) but an explicit null as unknown (only events
        # that feed no watched-segment figure get here without one: see `require_complete`).
        "duration": _media_time(data.get("duration", 0)),
    }
    out = caliper_event(
        event, options, "MediaEvent", _ACTIONS[event.name], video, target=_target(event.name, data)
    )
    if event.name == "speed_change_video":
        speeds = {"oldSpeed": data.get("old_speed"), "newSpeed": data.get("new_speed")}
        out["extensions"].update({k: s for k, s in speeds.items() if not absent(s)})
    return [out]
