"""Named event sets a consumer can be given instead of an allow list written out by hand.

`erb-default` is what a default event-routing-backends (ERB) installation sends: the defaults of
its `EVENT_TRACKING_BACKENDS_ALLOWED_XAPI_EVENTS` and `..._ALLOWED_CALIPER_EVENTS` settings, per
protocol. A consumer moved over from ERB with this preset receives the same kinds of statements it
did, no more (the router also translates `edx.grades.problem.submitted` and
`edx.problem.completed`, which ERB translates but leaves out of its defaults).

A preset is expanded into the route's allow list when a consumer is written (CLI, API, admin UI,
YAML import), so the stored consumer says exactly which names it gets and does not change when a
later release changes a preset.
"""

from __future__ import annotations

from enum import StrEnum

# The defaults of ERB's settings, from event_routing_backends/settings/common.py in ERB 9.3.8 (the
# version docs/compatibility.md compares against; unchanged in 10.0.0), in ERB's order.
ERB_VERSION = "9.3.8"

ERB_DEFAULT_XAPI: tuple[str, ...] = (
    "edx.course.enrollment.activated",
    "edx.course.enrollment.deactivated",
    "edx.course.enrollment.mode_changed",
    "edx.grades.subsection.grade_calculated",
    "edx.grades.course.grade_calculated",
    "edx.special_exam.timed.attempt.created",
    "edx.special_exam.timed.attempt.submitted",
    "edx.special_exam.practice.attempt.created",
    "edx.special_exam.practice.attempt.submitted",
    "edx.special_exam.proctored.attempt.created",
    "edx.special_exam.proctored.attempt.submitted",
    "edx.completion.block_completion.changed",
    "edx.forum.thread.created",
    "edx.forum.thread.deleted",
    "edx.forum.thread.edited",
    "edx.forum.thread.viewed",
    "edx.forum.thread.reported",
    "edx.forum.thread.unreported",
    "edx.forum.thread.voted",
    "edx.forum.response.created",
    "edx.forum.response.deleted",
    "edx.forum.response.edited",
    "edx.forum.response.reported",
    "edx.forum.response.unreported",
    "edx.forum.response.voted",
    "edx.forum.comment.created",
    "edx.forum.comment.deleted",
    "edx.forum.comment.edited",
    "edx.forum.comment.reported",
    "edx.forum.comment.unreported",
    "edx.ui.lms.link_clicked",
    "edx.ui.lms.sequence.outline.selected",
    "edx.ui.lms.outline.selected",
    "edx.ui.lms.sequence.next_selected",
    "edx.ui.lms.sequence.previous_selected",
    "edx.ui.lms.sequence.tab_selected",
    "showanswer",
    "edx.problem.hint.demandhint_displayed",
    "problem_check",
    "load_video",
    "edx.video.loaded",
    "play_video",
    "edx.video.played",
    "complete_video",
    "edx.video.completed",
    "stop_video",
    "edx.video.stopped",
    "pause_video",
    "edx.video.paused",
    "seek_video",
    "edx.video.position.changed",
    "hide_transcript",
    "edx.video.transcript.hidden",
    "show_transcript",
    "edx.video.transcript.shown",
    "speed_change_video",
    "video_hide_cc_menu",
    "edx.video.closed_captions.shown",
    "edx.video.closed_captions.hidden",
    "edx.video.language_menu.hidden",
    "video_show_cc_menu",
    "edx.video.language_menu.shown",
    "edx.course.grade.passed.first_time",
    "edx.course.grade.now_passed",
    "edx.course.grade.now_failed",
)

ERB_DEFAULT_CALIPER: tuple[str, ...] = (
    "edx.course.enrollment.activated",
    "edx.course.enrollment.deactivated",
    "edx.ui.lms.link_clicked",
    "edx.ui.lms.sequence.outline.selected",
    "edx.ui.lms.outline.selected",
    "edx.ui.lms.sequence.next_selected",
    "edx.ui.lms.sequence.previous_selected",
    "edx.ui.lms.sequence.tab_selected",
    "showanswer",
    "edx.problem.hint.demandhint_displayed",
    "problem_check",
    "load_video",
    "edx.video.loaded",
    "play_video",
    "edx.video.played",
    "complete_video",
    "edx.video.completed",
    "stop_video",
    "edx.video.stopped",
    "pause_video",
    "edx.video.paused",
    "seek_video",
    "edx.video.position.changed",
    "edx.course.grade.passed.first_time",
    "edx.course.grade.now_passed",
    "edx.course.grade.now_failed",
)

# Names ERB lists by default but has no translation for (it logs "Could not get transformer" and
# sends nothing); the router, lacking one too, records them as untranslatable and sends nothing.
ERB_LISTED_UNTRANSLATED: dict[str, frozenset[str]] = {
    "xapi": frozenset({"edx.video.language_menu.hidden", "edx.video.language_menu.shown"}),
    "caliper": frozenset({"edx.course.grade.now_passed", "edx.course.grade.now_failed"}),
}


class EventSet(StrEnum):
    """`--events`: which event names a consumer gets."""

    ALL = "all"  # every event its protocol can carry (an empty allow list)
    ERB_DEFAULT = "erb-default"  # ERB's default allowed events for its protocol


class PresetError(ValueError):
    """A preset that does not apply (unknown name, or no ERB list for the protocol)."""


def preset_names(preset: str, protocol: str) -> list[str]:
    """The allow list `preset` stands for with `protocol`; [] (no restriction) for `all`.

    For protocol `edx` (events passed on untranslated) `erb-default` is the union of both lists:
    what ERB lets through to its backends (its `EVENT_BUS_TRACKING_LOGS` default).
    """
    try:
        chosen = EventSet(preset)
    except ValueError:
        known = ", ".join(item.value for item in EventSet)
        raise PresetError(f"unknown event set {preset!r} (expected one of {known})") from None
    if chosen is EventSet.ALL:
        return []
    if protocol == "xapi":
        return list(ERB_DEFAULT_XAPI)
    if protocol == "caliper":
        return list(ERB_DEFAULT_CALIPER)
    if protocol == "edx":
        return list(dict.fromkeys(ERB_DEFAULT_XAPI + ERB_DEFAULT_CALIPER))
    raise PresetError(f"no ERB event list for protocol {protocol!r}")


def expand_events(data: dict[str, object]) -> dict[str, object]:
    """Consumer data with its `events` key (a preset) turned into `route.allow`.

    The preset replaces the allow list; names given in `route.allow` alongside it are kept after
    the preset's. Data without `events` is returned as it is.
    """
    if "events" not in data:
        return data
    data = dict(data)
    preset = data.pop("events")
    if preset is None:
        return data
    if not isinstance(preset, str):
        raise PresetError("expected the name of an event set such as 'erb-default'")
    protocol = data.get("protocol") or "xapi"
    names = preset_names(preset, str(getattr(protocol, "value", protocol)))
    route = data.get("route")
    if hasattr(route, "model_dump"):
        route = route.model_dump()
    route = dict(route) if isinstance(route, dict) else {}
    given = route.get("allow")
    extra: list[object] = list(given) if isinstance(given, list) else []
    route["allow"] = list(dict.fromkeys([*names, *extra]))
    data["route"] = route
    return data
