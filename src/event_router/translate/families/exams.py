"""Special exams (ERB's family: timed, practice, proctored): the learner started or submitted an
exam attempt.

Example: "Learner 32e08e30… initialized block-v1:edX+DemoX+Demo_Course+type@sequential+block@5b4b…
("Subsection", a timed assessment of 60 minutes), attempt 438AD672-…, in the demo course."

The object is the exam's subsection, identified by its usage key (ERB's choice; a usage key is an
IRI of its own scheme) with the default time limit as an extension. The attempt is the grouping
activity, carrying when it started and ended, its elapsed seconds and its id. ERB identifies the
attempt by its bare attempt code, which is not an IRI; we use `<LMS>/exam-attempt/<attempt code>`.
Caliper: ERB has none for these events.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from event_router.events import TrackingEvent
from event_router.translate.errors import TranslationError
from event_router.translate.options import Options
from event_router.translate.payload import Json, data_of, text
from event_router.translate.samples import About, Sample
from event_router.translate.table import (
    Row,
    Target,
    activity,
    course_activity,
    extensions,
    register,
)
from event_router.translate.xapi import vocabulary as v

# A usage key (`block-v1:…`, `ccx-block-v1:…`, `i4x://…`) and anything else already shaped like an
# absolute IRI made of plain URI characters: a scheme, an optional authority, then path characters.
_USAGE_KEY = re.compile(
    r"[A-Za-z][A-Za-z0-9+.\-]*:"
    r"(?://[A-Za-z0-9\-._~!$&'()*+,;=]*(?=/|\Z)|(?!//))"
    r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*"
)
_ATTEMPT_PATH = "exam-attempt"


def exam(event: TrackingEvent, options: Options, data: Json) -> Target:
    """The exam's subsection: its usage key as the IRI, named by the exam's name."""
    data = data_of(event)
    name = text(data.get("exam_name"))
    content_id = data.get("exam_content_id")
    if not isinstance(content_id, str) or not content_id:
        raise TranslationError("exam event has no exam_content_id")
    if not _USAGE_KEY.fullmatch(content_id):
        raise TranslationError("exam_content_id is not a usage key")
    return Target(content_id, name)


def attempt_context(event: TrackingEvent, options: Options, data: Json) -> Json | None:
    """The course as parent, the attempt as grouping."""
    course = course_activity(event, options, object_type=True)
    attempt = _attempt_activity(options, data, text(data.get("exam_name")))
    return {
        "parent": [course] if course else None,
        "grouping": [attempt] if attempt else None,
    }


def _attempt_activity(options: Options, data: Json, name: str | None) -> Json | None:
    """The attempt, identified by its code; None when the event names no attempt code."""
    code = data.get("attempt_code")
    if isinstance(code, bool) or not isinstance(code, str | int) or code == "":
        return None
    return activity(
        f"{options.lms_url}/{_ATTEMPT_PATH}/{quote(str(code), safe='')}",
        v.ATTEMPT,
        name=name,
        language="en",
        extensions={
            v.EXT_ATTEMPT_STARTED: data.get("attempt_started_at"),
            v.EXT_ATTEMPT_COMPLETED: data.get("attempt_completed_at"),
            v.EXT_DURATION: data.get("attempt_event_elapsed_time_secs"),
            v.EXT_ATTEMPT_ID: data.get("attempt_id"),
        },
    )


def _row(kind: str, action: str, verb: v.Verb, exam_type: str) -> Row:
    return Row(
        f"edx.special_exam.{kind}.attempt.{action}",
        verb,
        exam_type,
        exam,
        language="en",
        activity_extensions=extensions(exam_default_time_limit_mins=v.EXT_TIME_LIMIT),
        context_activities=attempt_context,
    )


ROWS = (
    _row("timed", "created", v.INITIALIZED, v.TIMED_ASSESSMENT),
    _row("timed", "submitted", v.TERMINATED, v.TIMED_ASSESSMENT),
    _row("practice", "created", v.INITIALIZED, v.PRACTICE_ASSESSMENT),
    _row("practice", "submitted", v.TERMINATED, v.PRACTICE_ASSESSMENT),
    _row("proctored", "created", v.INITIALIZED, v.PROCTORED_ASSESSMENT),
    _row("proctored", "submitted", v.TERMINATED, v.PROCTORED_ASSESSMENT),
)


# Each event as edx-proctoring logs it, about a subsection that is an exam.
def attempt(about: About, kind: str, **more: Any) -> Json:
    """What every attempt event carries: the exam and the attempt."""
    limit = 60 if kind == "timed" else 90
    return {
        "exam_id": 4,
        "exam_content_id": about.block,
        "exam_name": "Final exam",
        "exam_default_time_limit_mins": limit,
        "exam_is_proctored": kind == "proctored",
        "exam_is_practice_exam": kind == "practice",
        "exam_is_active": True,
        "attempt_id": 4201,
        "attempt_user_id": about.user_id,
        "attempt_code": "438AD672-DE2C-4F0B-8876-35444E7DD746",
        "attempt_allowed_time_limit_mins": limit,
        **more,
    }


def _attempt(status: str, elapsed: float) -> Callable[[str], Sample]:
    """The sample of an attempt's event of any exam kind, at `status` after `elapsed` s."""

    def sample(kind: str) -> Sample:
        return Sample(
            "server",
            "sequential",
            lambda a: attempt(
                a,
                kind,
                attempt_started_at=a.time,
                attempt_completed_at=a.time if status == "submitted" else None,
                attempt_status=status,
                attempt_event_elapsed_time_secs=elapsed,
            ),
        )

    return sample


_created, _submitted = _attempt("started", 0), _attempt("submitted", 1815.5)


SAMPLES = {
    f"edx.special_exam.{kind}.attempt.{action}": sample(kind)
    for kind in ("timed", "practice", "proctored")
    for action, sample in (("created", _created), ("submitted", _submitted))
}

register(ROWS, SAMPLES)
