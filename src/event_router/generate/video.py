"""Video: load, play, pause, seek, speed, transcripts and captions, then stop and complete.

The playhead moves forward with time and never passes the end; the legacy browser names or the
mobile app's `edx.video.*` names, depending on the learner's device.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from event_router.generate.visit import Step, Visit, blocks_of, completion, sampled

_LEGACY = {
    "load": "load_video",
    "play": "play_video",
    "pause": "pause_video",
    "seek": "seek_video",
    "stop": "stop_video",
    "complete": "complete_video",
    "speed": "speed_change_video",
    "transcript_on": "show_transcript",
    "transcript_off": "hide_transcript",
    "cc_on": "video_show_cc_menu",
    "cc_off": "video_hide_cc_menu",
}
_MOBILE = {
    "load": "edx.video.loaded",
    "play": "edx.video.played",
    "pause": "edx.video.paused",
    "seek": "edx.video.position.changed",
    "stop": "edx.video.stopped",
    "complete": "edx.video.completed",
    "speed": "speed_change_video",
    "transcript_on": "edx.video.transcript.shown",
    "transcript_off": "edx.video.transcript.hidden",
    "cc_on": "edx.video.closed_captions.shown",
    "cc_off": "edx.video.closed_captions.hidden",
}


def watch(visit: Visit) -> Iterator[Step]:
    rng = visit.rng
    videos = [v for v in blocks_of(visit, "video")]
    if not videos:
        return
    sub, unit, video = rng.choice(videos)
    mobile = "Mobile" in visit.learner.agent or rng.random() < 0.1
    names, source = (_MOBILE, "mobile") if mobile else (_LEGACY, "browser")
    page = visit.xblock_url(sub, unit)
    base = {"id": video.hex, "code": video.youtube or "html5", "duration": video.duration}

    def step(kind: str, **data: Any) -> Step:
        name = names[kind]
        # The fields of the event's sample (translate/families/video.py), but for the speed:
        # Ralph's model, which the sample follows, names its playhead `currentTime` as well.
        payload = {**base, **data} if kind == "speed" else sampled(visit, name, **base, **data)
        return Step(name, payload, source, "/event", page, page)

    position = 0.0
    yield step("load")
    yield step("play", currentTime=position)
    for _ in range(rng.randint(1, 6)):
        position = min(float(video.duration), position + rng.uniform(5, 240))
        kind = rng.choices(("pause", "seek", "speed", "transcript", "cc"), (5, 3, 1, 1, 1))[0]
        if kind == "pause":
            yield step("pause", currentTime=round(position, 6))
            yield step("play", currentTime=round(position, 6))
        elif kind == "seek":
            target = round(rng.uniform(0, video.duration), 3)
            yield step("seek", old_time=round(position, 3), new_time=target, type="onSlideSeek")
            position = target
        elif kind == "speed":
            old, new = rng.sample(("0.75", "1.0", "1.25", "1.5", "2.0"), 2)
            yield step("speed", current_time=round(position, 6), old_speed=old, new_speed=new)
        else:
            on = rng.random() < 0.5
            suffix = "_on" if on else "_off"
            yield step(kind + suffix, current_time=round(position, 6))
        if position >= video.duration:
            break
    if position >= video.duration * 0.95 or rng.random() < 0.3:
        yield step("stop", currentTime=video.duration)
        yield step("complete")
        yield completion(visit, video, 1.0)
    else:
        yield step("pause", currentTime=round(position, 6))
        yield completion(visit, video, round(position / video.duration, 2))
