"""The families beyond ERB's: ORA, xblocks, bookmarks, notes, textbooks, teams, cohorts,
certificates, problem extras, pages. A visit samples a few of them, each with the sample payload
its family gives beside its translation (`translate.samples`), about the visit's own course,
blocks and learner.
"""

from __future__ import annotations

from collections.abc import Iterator

from event_router.generate.visit import Step, Visit, blocks_of
from event_router.translate.samples import About, hex_id, samples

# ERB's events, which the visit's own activities emit in a realistic order (courseware.py,
# video.py, problems.py, visit.py): `explore` leaves them out; any other table row it samples.
_SEQUENCED = frozenset(
    {
        "edx.course.enrollment.activated",
        "edx.course.enrollment.mode_changed",
        "edx.course.enrollment.deactivated",
        "edx.course.grade.passed.first_time",
        "edx.course.grade.now_passed",
        "edx.course.grade.now_failed",
        "edx.completion.block_completion.changed",
        "edx.ui.lms.link_clicked",
        "edx.ui.lms.outline.selected",
        "edx.ui.lms.sequence.outline.selected",
        "edx.ui.lms.sequence.next_selected",
        "edx.ui.lms.sequence.previous_selected",
        "edx.ui.lms.sequence.tab_selected",
        *("load_video", "play_video", "pause_video", "stop_video", "complete_video"),
        *("seek_video", "speed_change_video", "show_transcript", "hide_transcript"),
        *("video_show_cc_menu", "video_hide_cc_menu"),
        *("edx.video.loaded", "edx.video.played", "edx.video.paused", "edx.video.stopped"),
        *("edx.video.completed", "edx.video.position.changed"),
        *("edx.video.transcript.shown", "edx.video.transcript.hidden"),
        *("edx.video.closed_captions.shown", "edx.video.closed_captions.hidden"),
    }
)


def _block_key(visit: Visit, kind: str) -> str:
    """A block of `kind` in the visit's course: a real one (videos, problems) or one named
    after the course's first unit (ORA, polls, ...: the world does not model them)."""
    if kind in ("video", "problem"):
        found = blocks_of(visit, kind)
        if found:
            return visit.rng.choice(found)[2].usage_key
    sub = visit.course.subsections[0]
    if kind == "sequential":
        return sub.usage_key
    return visit.course.usage_key(kind, hex_id(sub.hex, kind))


# Pages of a course the LMS serves; a server event named by its path records each request.
_PAGES = ("progress", "course/", "dates", "discussion/forum/", "instructor", "bookmarks/")


def page_view(visit: Visit) -> Step:
    path = f"/courses/{visit.course.course_id}/{visit.rng.choice(_PAGES)}"
    return Step(path, {"GET": {}, "POST": {}}, "server", path, visit.outline_url())


def explore(visit: Visit) -> Iterator[Step]:
    """A handful of events of the families beyond ERB's, and a page the LMS served."""
    yield page_view(visit)
    table = samples()
    for name in visit.rng.sample(sorted(table.keys() - _SEQUENCED), 8):
        sample = table[name]
        source, kind = sample.source, sample.kind
        key = _block_key(visit, kind) if kind else ""
        module = {"display_name": kind, "usage_key": key} if key and source == "server" else None
        page = visit.courseware_url(visit.course.subsections[0])
        referer = page if kind != "problem" else f"{page.split('?')[0]}?activate_block_id={key}"
        yield Step(
            name,
            sample.payload(_about(visit, key)),
            source,
            "/event" if source == "browser" else "/x",
            referer,
            page if source == "browser" else None,
            module,
        )


def _about(visit: Visit, block: str) -> About:
    learner = visit.learner
    return About(
        visit.course.course_id, block, visit.lms_url, learner.user_id, learner.username,
        visit.progress.mode, visit.stamp(), visit.rng,
    )  # fmt: skip
