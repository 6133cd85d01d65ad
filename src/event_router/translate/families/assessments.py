"""Open response assessment (ORA): submissions, peer / self / staff assessments, feedback.

Example: "Learner 32e08e30… submitted http://lms/xblock/block-v1:…+type@openassessment+block@…
(attempt 1)"; a peer assessment is "scored" with the points the rubric gave.
The object is the ORA block (`context.module`, or the payload's `item_id`).
"""

from __future__ import annotations

from typing import Any

from event_router.translate import samples as s
from event_router.translate.payload import Json
from event_router.translate.samples import Sample
from event_router.translate.table import (
    Caliper,
    Row,
    combine,
    extensions,
    register,
    result_extensions,
    xblock,
)
from event_router.translate.xapi import vocabulary as v

ORA = xblock("item_id")


def _rubric_score(data: Json) -> Json | None:
    """The points of the options chosen are not in the event; the possible points are: report
    the criteria assessed and the rubric's maximum as the assessment's extensions."""
    parts = data.get("parts")
    if not isinstance(parts, list):
        return None
    possible = 0
    for part in parts:
        criterion = part.get("criterion") if isinstance(part, dict) else None
        points = criterion.get("points_possible") if isinstance(criterion, dict) else None
        if isinstance(points, int) and not isinstance(points, bool) and points > 0:
            possible += points
    options = [p.get("option") for p in parts if isinstance(p, dict)]
    return {
        "response": ", ".join(o for o in options if isinstance(o, str)) or None,
        "extensions": {
            v.EXT_FEEDBACK: data.get("feedback"),
            v.EXT_SCORE_TYPE: data.get("score_type"),
            v.EXT_POINTS_POSSIBLE: possible or None,
        },
    }


def _submission_text(data: Json) -> Json | None:
    answer = data.get("answer") or data.get("saved_response")
    if not isinstance(answer, dict):
        return None
    parts: Any = answer.get("parts")
    if isinstance(parts, list):
        texts = [p.get("text") for p in parts if isinstance(p, dict)]
        joined = "\n\n".join(t for t in texts if isinstance(t, str))
    else:
        single = answer.get("text")
        joined = single if isinstance(single, str) else ""
    return {"response": joined or None}


_SUBMISSION = extensions(submission_uuid=v.EXT_SUBMISSION, attempt_number=v.EXT_ATTEMPT)
_ASSESSED = Caliper("AssessmentEvent", "Submitted", "Assessment")

ROWS = (
    Row(
        "openassessmentblock.create_submission",
        v.SUBMITTED,
        v.ASSESSMENT,
        ORA,
        result=combine(_submission_text, lambda d: {"completion": True}),
        extensions=_SUBMISSION,
        caliper=_ASSESSED,
    ),
    Row(
        "openassessmentblock.save_submission",
        v.SAVED,
        v.ASSESSMENT,
        ORA,
        result=_submission_text,
        caliper=Caliper("AssessmentEvent", "Paused", "Assessment"),
    ),
    Row(
        "openassessmentblock.get_peer_submission",
        v.RECEIVED,
        v.ASSESSMENT,
        ORA,
        extensions=extensions(submission_returned_uuid=v.EXT_SUBMISSION),
        caliper=Caliper("AssessmentEvent", "Started", "Assessment"),
    ),
    Row(
        "openassessmentblock.get_submission_for_staff_grading",
        v.RECEIVED,
        v.ASSESSMENT,
        ORA,
        extensions=extensions(submission_returned_uuid=v.EXT_SUBMISSION),
        caliper=Caliper("AssessmentEvent", "Started", "Assessment"),
    ),
    *(
        Row(
            f"openassessmentblock.{kind}_assess",
            v.EVALUATED,
            v.ASSESSMENT,
            ORA,
            result=_rubric_score,
            extensions=_SUBMISSION,
            caliper=Caliper("AssessmentEvent", "Submitted", "Assessment"),
        )
        for kind in ("peer", "self", "staff")
    ),
    Row(
        "openassessment.student_training_assess_example",
        v.ANSWERED,
        v.ASSESSMENT,
        ORA,
        result=lambda d: (
            {"success": not d.get("corrections")}
            if isinstance(d.get("corrections"), dict)
            else None
        ),
        extensions=_SUBMISSION,
        caliper=Caliper("AssessmentEvent", "Submitted", "Assessment"),
    ),
    Row(
        "openassessmentblock.submit_feedback_on_assessments",
        v.RESPONDED,
        v.ASSESSMENT,
        ORA,
        result=lambda d: (
            {"response": d.get("feedback_text")}
            if isinstance(d.get("feedback_text"), str)
            else None
        ),
        extensions=_SUBMISSION,
        caliper=Caliper("FeedbackEvent", "Commented", "Assessment"),
    ),
    Row(
        "openassessment.upload_file",
        v.ATTACHED,
        v.ASSESSMENT,
        ORA,
        result=result_extensions(fileName=f"{v.EXT_FILE}-name", fileType=f"{v.EXT_FILE}-type"),
        caliper=Caliper("ResourceManagementEvent", "Uploaded", "Assessment"),
    ),
)


# Each event as the LMS logs it (the load generator emits these, the tests translate them).
SAMPLES = {
    "openassessmentblock.create_submission": Sample(
        "server",
        "openassessment",
        lambda a: {
            "answer": {"parts": [{"text": "My essay."}]},
            "attempt_number": 1,
            "created_at": a.time,
            "submitted_at": a.time,
            "submission_uuid": s.SUBMISSION,
        },
    ),
    "openassessmentblock.save_submission": Sample(
        "server", "openassessment", lambda a: {"saved_response": {"text": "Draft."}}
    ),
    "openassessmentblock.get_peer_submission": Sample(
        "server",
        "openassessment",
        lambda a: {
            "course_id": a.course_id,
            "item_id": a.block,
            "requesting_student_id": "7f0e1d2c",
            "submission_returned_uuid": s.SUBMISSION,
        },
    ),
    "openassessmentblock.get_submission_for_staff_grading": Sample(
        "server",
        "openassessment",
        lambda a: {
            "item_id": a.block,
            "submission_returned_uuid": s.SUBMISSION,
            "requesting_staff_id": "9a8b7c6d",
            "type": "full-grade",
        },
    ),
    "openassessmentblock.peer_assess": Sample("server", "openassessment", lambda a: s.ASSESSMENT),
    "openassessmentblock.self_assess": Sample(
        "server", "openassessment", lambda a: {**s.ASSESSMENT, "score_type": "SE"}
    ),
    "openassessmentblock.staff_assess": Sample(
        "server",
        "openassessment",
        lambda a: {**s.ASSESSMENT, "score_type": "ST", "type": "full-grade"},
    ),
    "openassessment.student_training_assess_example": Sample(
        "server",
        "openassessment",
        lambda a: {
            "corrections": {},
            "options_selected": {"Ideas": "Good"},
            "submission_uuid": s.SUBMISSION,
        },
    ),
    "openassessmentblock.submit_feedback_on_assessments": Sample(
        "server",
        "openassessment",
        lambda a: {"feedback_text": "Helpful.", "options": [], "submission_uuid": s.SUBMISSION},
    ),
    "openassessment.upload_file": Sample(
        "browser",
        "openassessment",
        lambda a: {"fileName": "essay.pdf", "fileSize": 20480, "fileType": "application/pdf"},
    ),
}

register(ROWS, SAMPLES)
