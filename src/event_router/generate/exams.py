"""Special exams: an attempt is created, the learner works through the exam, then submits it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from event_router.generate.courseware import navigate
from event_router.generate.visit import Step, Visit


def sit_exam(visit: Visit) -> Iterator[Step]:
    exams = [s for s in visit.course.subsections if s.exam]
    if not exams:
        return
    exam = exams[0]
    assert exam.exam is not None
    progress = visit.progress
    progress.exam_attempts += 1
    number = visit.learner.user_id * 100 + progress.exam_attempts
    code = str(uuid.UUID(int=visit.rng.getrandbits(128), version=4)).upper()
    limit = 60 if exam.exam == "timed" else 90
    base = {
        "exam_id": int(exam.hex[:6], 16),
        "exam_content_id": exam.usage_key,
        "exam_name": exam.name,
        "exam_default_time_limit_mins": limit,
        "exam_is_proctored": exam.exam == "proctored",
        "exam_is_practice_exam": exam.exam == "practice",
        "exam_is_active": True,
        "attempt_id": number,
        "attempt_user_id": visit.learner.user_id,
        "attempt_code": code,
        "attempt_allowed_time_limit_mins": limit,
    }
    path = f"/api/edx_proctoring/v1/proctored_exam/attempt/{number}"
    referer = visit.courseware_url(exam)
    started = visit.stamp()
    yield Step(
        f"edx.special_exam.{exam.exam}.attempt.created",
        {**base, "attempt_started_at": started, "attempt_completed_at": None,
         "attempt_status": "started", "attempt_event_elapsed_time_secs": 0},
        "server", path, referer,
    )  # fmt: skip
    opened = visit.now
    yield from navigate(visit)
    yield Step(
        f"edx.special_exam.{exam.exam}.attempt.submitted",
        {**base, "attempt_started_at": started, "attempt_completed_at": visit.stamp(),
         "attempt_status": "submitted",
         "attempt_event_elapsed_time_secs": round((visit.now - opened).total_seconds(), 4)},
        "server", path, referer,
    )  # fmt: skip
