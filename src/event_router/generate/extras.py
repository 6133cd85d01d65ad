"""The families beyond ERB's: ORA, xblocks, bookmarks, notes, textbooks, teams, cohorts,
certificates, problem extras, pages. A visit samples a few of them, each with a realistic payload
about the visit's own course, blocks and learner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from event_router.generate.visit import Step, Visit, blocks_of
from event_router.generate.world import hex_id

Json = dict[str, Any]
Payload = Callable[[Visit, str], Any]  # (visit, a block usage key) → payload

_STATE = {"correct_map": {}, "done": True, "input_state": {}, "seed": 1, "student_answers": {}}
_SUBMISSION = "c1a2b3d4-e5f6-4789-8abc-def012345678"
_ASSESS = {
    "feedback": "Clear argument.",
    "parts": [{"option": "Good", "criterion": {"name": "Ideas", "points_possible": 5}}],
    "rubric": {"content_hash": "3c4b1f"},
    "scored_at": "2024-03-01T10:00:00+00:00",
    "scorer_id": "7f0e1d2c",
    "score_type": "PE",
    "submission_uuid": _SUBMISSION,
}


def _pdf(visit: Visit, **more: Any) -> Json:
    asset = visit.course.course_id.replace("course-v1:", "asset-v1:")
    return {"chapter": f"/{asset}+type@asset+block/Chapter_1.pdf", "page": 3, **more}


def _cert(visit: Visit, **more: Any) -> Json:
    code = hex_id(visit.course.course_id, visit.learner.user_id)
    return {
        "certificate_id": code,
        "certificate_url": f"{visit.lms_url}/certificates/{code}",
        "course_id": visit.course.course_id,
        "enrollment_mode": visit.progress.mode,
        "user_id": visit.learner.user_id,
        **more,
    }


def _note(key: str, **more: Any) -> Json:
    return {
        "component_usage_id": key,
        "highlighted_content": "the key idea",
        "note_id": hex_id(key, "note")[:12],
        "note_text": "Remember this",
        "tags": ["review"],
        **more,
    }


def _team(visit: Visit, **more: Any) -> Json:
    return {"team_id": hex_id(visit.course.course_id, "team"), **more}


_SEARCHES = (
    "textbook.pdf.search.executed",
    "textbook.pdf.search.navigatednext",
    "textbook.pdf.search.highlight.toggled",
    "textbook.pdf.searchcasesensitivity.toggled",
)


def _search(name: str) -> Payload:
    def build(visit: Visit, key: str) -> Json:
        more = {"caseSensitive": False, "highlightAll": True, "query": "cell", "status": ""}
        return {**_pdf(visit), "name": name, **more}

    return build


# name → (event_source, block kind the event is about or "", payload)
EVENTS: dict[str, tuple[str, str, Payload]] = {
    "openassessmentblock.create_submission": (
        "server",
        "openassessment",
        lambda v, k: {
            "answer": {"parts": [{"text": "My essay."}]},
            "attempt_number": 1,
            "created_at": v.stamp(),
            "submitted_at": v.stamp(),
            "submission_uuid": _SUBMISSION,
        },
    ),
    "openassessmentblock.save_submission": (
        "server",
        "openassessment",
        lambda v, k: {"saved_response": {"text": "Draft."}},
    ),
    "openassessmentblock.get_peer_submission": (
        "server",
        "openassessment",
        lambda v, k: {
            "course_id": v.course.course_id,
            "item_id": k,
            "requesting_student_id": "7f0e1d2c",
            "submission_returned_uuid": _SUBMISSION,
        },
    ),
    "openassessmentblock.get_submission_for_staff_grading": (
        "server",
        "openassessment",
        lambda v, k: {
            "item_id": k,
            "submission_returned_uuid": _SUBMISSION,
            "requesting_staff_id": "9a8b7c6d",
            "type": "full-grade",
        },
    ),
    "openassessmentblock.peer_assess": ("server", "openassessment", lambda v, k: _ASSESS),
    "openassessmentblock.self_assess": (
        "server",
        "openassessment",
        lambda v, k: {**_ASSESS, "score_type": "SE"},
    ),
    "openassessmentblock.staff_assess": (
        "server",
        "openassessment",
        lambda v, k: {**_ASSESS, "score_type": "ST", "type": "full-grade"},
    ),
    "openassessment.student_training_assess_example": (
        "server",
        "openassessment",
        lambda v, k: {
            "corrections": {},
            "options_selected": {"Ideas": "Good"},
            "submission_uuid": _SUBMISSION,
        },
    ),
    "openassessmentblock.submit_feedback_on_assessments": (
        "server",
        "openassessment",
        lambda v, k: {"feedback_text": "Helpful.", "options": [], "submission_uuid": _SUBMISSION},
    ),
    "openassessment.upload_file": (
        "browser",
        "openassessment",
        lambda v, k: {"fileName": "essay.pdf", "fileSize": 20480, "fileType": "application/pdf"},
    ),
    "edx.drag_and_drop_v2.loaded": ("server", "drag-and-drop-v2", lambda v, k: {}),
    "edx.drag_and_drop_v2.item.picked_up": (
        "server",
        "drag-and-drop-v2",
        lambda v, k: {"item_id": 1},
    ),
    "edx.drag_and_drop_v2.item.dropped": (
        "server",
        "drag-and-drop-v2",
        lambda v, k: {
            "input": 1,
            "item": "Nucleus",
            "item_id": 1,
            "is_correct": v.rng.random() < 0.6,
            "is_correct_location": True,
            "location": "Cell",
            "location_id": 2,
        },
    ),
    "edx.drag_and_drop_v2.feedback.opened": (
        "server",
        "drag-and-drop-v2",
        lambda v, k: {"content": "Well done", "manually": False, "truncated": False},
    ),
    "edx.drag_and_drop_v2.feedback.closed": (
        "server",
        "drag-and-drop-v2",
        lambda v, k: {"content": "Well done", "manually": True, "truncated": False},
    ),
    "xblock.poll.submitted": (
        "server",
        "poll",
        lambda v, k: {"url_name": "poll", "choice": v.rng.choice(("red", "green", "blue"))},
    ),
    "xblock.poll.view_results": ("server", "poll", lambda v, k: {}),
    "xblock.survey.submitted": (
        "server",
        "survey",
        lambda v, k: {"url_name": "survey", "choices": {"enjoy": "Y", "learn": "M"}},
    ),
    "xblock.survey.view_results": ("server", "survey", lambda v, k: {}),
    "ubc.peer_instruction.accessed": ("server", "ubcpi", lambda v, k: {}),
    "ubc.peer_instruction.original_submitted": (
        "server",
        "ubcpi",
        lambda v, k: {"answer": 1, "rationale": "Because.", "truncated": False},
    ),
    "ubc.peer_instruction.revised_submitted": (
        "server",
        "ubcpi",
        lambda v, k: {"answer": 2, "rationale": "Convinced.", "truncated": False},
    ),
    "edx.bookmark.added": (
        "server",
        "vertical",
        lambda v, k: {
            "bookmark_id": f"{v.learner.username},{k}",
            "component_type": "vertical",
            "component_usage_id": k,
            "course_id": v.course.course_id,
        },
    ),
    "edx.bookmark.removed": (
        "server",
        "vertical",
        lambda v, k: {
            "bookmark_id": f"{v.learner.username},{k}",
            "component_type": "vertical",
            "component_usage_id": k,
            "course_id": v.course.course_id,
        },
    ),
    "edx.bookmark.accessed": (
        "browser",
        "vertical",
        lambda v, k: {
            "bookmark_id": f"{v.learner.username},{k}",
            "component_type": "vertical",
            "component_usage_id": k,
        },
    ),
    "edx.bookmark.listed": (
        "server",
        "",
        lambda v, k: {
            "bookmarks_count": 2,
            "course_id": v.course.course_id,
            "list_type": "per_course",
            "page_number": 1,
            "page_size": 10,
        },
    ),
    "edx.course.tool.accessed": (
        "browser",
        "",
        lambda v, k: {"tool_name": v.rng.choice(("edx.bookmarks", "edx.updates", "edx.reviews"))},
    ),
    "edx.course.student_notes.added": ("browser", "vertical", lambda v, k: _note(k)),
    "edx.course.student_notes.edited": (
        "browser",
        "vertical",
        lambda v, k: _note(k, old_note_text="Remember", old_tags=[]),
    ),
    "edx.course.student_notes.deleted": ("browser", "vertical", lambda v, k: _note(k)),
    "edx.course.student_notes.viewed": (
        "browser",
        "",
        lambda v, k: {"notes": [{"note_id": "5f2a1b"}]},
    ),
    "edx.course.student_notes.notes_page_viewed": (
        "browser",
        "",
        lambda v, k: {"view": "Recent Activity"},
    ),
    "edx.course.student_notes.used_unit_link": (
        "browser",
        "vertical",
        lambda v, k: {"component_usage_id": k, "note_id": "5f2a1b", "view": "Search Results"},
    ),
    "edx.course.student_notes.searched": (
        "browser",
        "",
        lambda v, k: {"number_of_results": 1, "search_string": "idea"},
    ),
    "edx.done.toggled": ("server", "done", lambda v, k: {"done": v.rng.random() < 0.8}),
    "edx.librarycontentblock.content.assigned": (
        "server",
        "library_content",
        lambda v, k: {
            "location": k,
            "max_count": 1,
            "previous_count": 0,
            "result": [],
            "added": [],
        },
    ),
    "edx.librarycontentblock.content.removed": (
        "server",
        "library_content",
        lambda v, k: {
            "location": k,
            "max_count": 1,
            "previous_count": 1,
            "result": [],
            "reason": "invalid",
            "removed": [],
        },
    ),
    "seq_goto": ("browser", "sequential", lambda v, k: {"id": k, "new": 2, "old": 1}),
    "seq_next": ("browser", "sequential", lambda v, k: {"id": k, "new": 2, "old": 1}),
    "seq_prev": ("browser", "sequential", lambda v, k: {"id": k, "new": 1, "old": 2}),
    "page_close": ("browser", "", lambda v, k: "{}"),
    "edx.video.language_menu.shown": (
        "browser",
        "video",
        lambda v, k: {"id": k.rsplit("@", 1)[-1], "code": "html5", "language": "en"},
    ),
    "edx.video.language_menu.hidden": (
        "browser",
        "video",
        lambda v, k: {"id": k.rsplit("@", 1)[-1], "code": "html5", "language": "fr"},
    ),
    "book": (
        "browser",
        "",
        lambda v, k: {
            **_pdf(v),
            "name": "textbook.pdf.page.loaded",
            "new": 4,
            "old": 3,
            "type": "nextpage",
        },
    ),
    "textbook.pdf.page.navigated": (
        "browser",
        "",
        lambda v, k: {**_pdf(v), "name": "textbook.pdf.page.navigated"},
    ),
    "textbook.pdf.thumbnail.navigated": (
        "browser",
        "",
        lambda v, k: {
            **_pdf(v),
            "name": "textbook.pdf.thumbnail.navigated",
            "thumbnail_title": "Page 3",
        },
    ),
    "textbook.pdf.chapter.navigated": (
        "browser",
        "",
        lambda v, k: {
            **_pdf(v),
            "name": "textbook.pdf.chapter.navigated",
            "chapter_title": "Chapter 1",
        },
    ),
    "textbook.pdf.page.scrolled": (
        "browser",
        "",
        lambda v, k: {**_pdf(v), "name": "textbook.pdf.page.scrolled", "direction": "down"},
    ),
    "textbook.pdf.display.scaled": (
        "browser",
        "",
        lambda v, k: {**_pdf(v), "name": "textbook.pdf.display.scaled", "amount": 1.5},
    ),
    "textbook.pdf.zoom.buttons.changed": (
        "browser",
        "",
        lambda v, k: {**_pdf(v), "name": "textbook.pdf.zoom.buttons.changed", "direction": "in"},
    ),
    "textbook.pdf.zoom.menu.changed": (
        "browser",
        "",
        lambda v, k: {**_pdf(v), "name": "textbook.pdf.zoom.menu.changed", "amount": "1.25"},
    ),
    "textbook.pdf.outline.toggled": (
        "browser",
        "",
        lambda v, k: {**_pdf(v), "name": "textbook.pdf.outline.toggled"},
    ),
    "textbook.pdf.thumbnails.toggled": (
        "browser",
        "",
        lambda v, k: {**_pdf(v), "name": "textbook.pdf.thumbnails.toggled"},
    ),
    **{name: ("browser", "", _search(name)) for name in _SEARCHES},
    "edx.certificate.created": ("server", "", lambda v, k: _cert(v, generation_mode="self")),
    "edx.certificate.shared": ("server", "", lambda v, k: _cert(v, social_network="linkedin")),
    "edx.certificate.evidence_visited": (
        "server",
        "",
        lambda v, k: _cert(
            v, social_network="linkedin", source_url="https://www.linkedin.com/feed"
        ),
    ),
    "edx.certificate.revoked": ("server", "", lambda v, k: _cert(v, source="staff")),
    "edx.certificate.generation.enabled": (
        "server",
        "",
        lambda v, k: {"course_id": v.course.course_id},
    ),
    "edx.certificate.generation.disabled": (
        "server",
        "",
        lambda v, k: {"course_id": v.course.course_id},
    ),
    "edx.team.created": ("server", "", lambda v, k: _team(v)),
    "edx.team.deleted": ("server", "", lambda v, k: _team(v)),
    "edx.team.changed": (
        "server",
        "",
        lambda v, k: _team(v, field="name", new="Owls", old="Larks", truncated=[]),
    ),
    "edx.team.activity_updated": ("server", "", lambda v, k: _team(v)),
    "edx.team.learner_added": (
        "server",
        "",
        lambda v, k: _team(v, add_method="joined_from_team_view", user_id=str(v.learner.user_id)),
    ),
    "edx.team.learner_removed": (
        "server",
        "",
        lambda v, k: _team(v, remove_method="self_removal", user_id=str(v.learner.user_id)),
    ),
    "edx.team.page_viewed": (
        "server",
        "",
        lambda v, k: _team(v, page_name="single-team", topic_id="general"),
    ),
    "edx.team.searched": (
        "server",
        "",
        lambda v, k: {"number_of_results": 3, "search_text": "owls", "topic_id": "general"},
    ),
    "edx.cohort.created": ("server", "", lambda v, k: {"cohort_id": 3, "name": "Group A"}),
    "edx.cohort.user_added": (
        "server",
        "",
        lambda v, k: {"cohort_id": 3, "name": "Group A", "user_id": v.learner.user_id},
    ),
    "edx.cohort.user_removed": (
        "server",
        "",
        lambda v, k: {"cohort_id": 3, "name": "Group A", "user_id": v.learner.user_id},
    ),
    "edx.course.enrollment.upgrade_clicked": ("browser", "", lambda v, k: {}),
    "edx.course.enrollment.upgrade.succeeded": ("server", "", lambda v, k: {}),
    "problem_save": (
        "browser",
        "problem",
        lambda v, k: f"input_{k.rsplit('@', 1)[-1]}_2_1=choice_1",
    ),
    "save_problem_success": (
        "server",
        "problem",
        lambda v, k: {"answers": {}, "problem_id": k, "state": _STATE},
    ),
    "save_problem_fail": (
        "server",
        "problem",
        lambda v, k: {"answers": {}, "failure": "done", "problem_id": k, "state": _STATE},
    ),
    "problem_reset": (
        "browser",
        "problem",
        lambda v, k: {"answers": f"input_{k.rsplit('@', 1)[-1]}_2_1=choice_1"},
    ),
    "reset_problem": (
        "server",
        "problem",
        lambda v, k: {"new_state": _STATE, "old_state": _STATE, "problem_id": k},
    ),
    "reset_problem_fail": (
        "server",
        "problem",
        lambda v, k: {"failure": "not_done", "old_state": _STATE, "problem_id": k},
    ),
    "problem_check_fail": (
        "server",
        "problem",
        lambda v, k: {"answers": {}, "failure": "closed", "problem_id": k, "state": _STATE},
    ),
    "problem_rescore": (
        "server",
        "problem",
        lambda v, k: {
            "attempts": 1,
            "correct_map": {"correctness": "correct", "msg": ""},
            "new_score": 1,
            "new_total": 1,
            "orig_score": 0,
            "orig_total": 1,
            "problem_id": k,
            "state": _STATE,
            "success": "correct",
        },
    ),
    "problem_rescore_fail": (
        "server",
        "problem",
        lambda v, k: {"failure": "unreset", "problem_id": k, "state": _STATE},
    ),
    "problem_graded": (
        "browser",
        "problem",
        lambda v, k: [f"input_{k.rsplit('@', 1)[-1]}_2_1=choice_1", "<div>correct</div>"],
    ),
    "problem_show": ("browser", "problem", lambda v, k: {"problem": k}),
    "edx.problem.hint.feedback_displayed": (
        "server",
        "problem",
        lambda v, k: {
            "choice_all": ["choice_0"],
            "correctness": False,
            "hint_label": "Incorrect",
            "hints": [{"text": "Not quite."}],
            "module_id": k,
            "problem_part_id": "p1",
            "question_type": "multiplechoiceresponse",
            "student_answer": ["choice_0"],
            "trigger_type": "single",
        },
    ),
}


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
    names = sorted(EVENTS)
    for name in visit.rng.sample(names, 8):
        source, kind, build = EVENTS[name]
        key = _block_key(visit, kind) if kind else ""
        module = {"display_name": kind, "usage_key": key} if key and source == "server" else None
        page = visit.courseware_url(visit.course.subsections[0])
        referer = page if kind != "problem" else f"{page.split('?')[0]}?activate_block_id={key}"
        yield Step(
            name,
            build(visit, key),
            source,
            "/event" if source == "browser" else "/x",
            referer,
            page if source == "browser" else None,
            module,
        )
