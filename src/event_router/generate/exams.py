"""Special exams: an attempt is created, the learner works through the exam, then submits it.
Payloads are the samples beside the translations (`translate/families/exams.py`), with the
simulated exam, attempt and times (`sampled`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from event_router.generate.courseware import navigate
from event_router.generate.visit import Step, Visit, sampled


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
    # The sample gives the rest: the exam's kind and time limit, the learner, the status.
    base = {"exam_id": int(exam.hex[:6], 16), "exam_name": exam.name, "attempt_id": number,
            "attempt_code": code}  # fmt: skip
    path = f"/api/edx_proctoring/v1/proctored_exam/attempt/{number}"
    referer = visit.courseware_url(exam)
    started = visit.stamp()
    created = f"edx.special_exam.{exam.exam}.attempt.created"
    yield Step(created, sampled(visit, created, exam.usage_key, **base), "server", path, referer)
    opened = visit.now
    yield from navigate(visit)
    submitted = f"edx.special_exam.{exam.exam}.attempt.submitted"
    elapsed = round((visit.now - opened).total_seconds(), 4)
    data = sampled(visit, submitted, exam.usage_key, **base, attempt_started_at=started,
                   attempt_event_elapsed_time_secs=elapsed)  # fmt: skip
    yield Step(submitted, data, "server", path, referer)
