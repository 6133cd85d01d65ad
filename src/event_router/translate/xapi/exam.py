"""Special exams (timed, practice, proctored): the learner started or submitted an exam attempt.

Example: "Learner 32e08e30… initialized block-v1:edX+DemoX+Demo_Course+type@sequential+block@5b4b…
("Subsection", a timed assessment of 60 minutes), attempt 438AD672-…, in the demo course."

The object is the exam's subsection, identified by its usage key (ERB's choice; a usage key is an
IRI of its own scheme) with the default time limit as an extension. The attempt is the grouping
activity, carrying when it started and ended, its elapsed seconds and its id. ERB identifies the
attempt by its bare attempt code, which is not an IRI; we use `<LMS>/exam-attempt/<attempt code>`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from event_router.events import TrackingEvent
from event_router.translate.errors import TranslationError
from event_router.translate.options import Options
from event_router.translate.payload import Json, data_of
from event_router.translate.xapi import vocabulary as v
from event_router.translate.xapi.common import activity, course_activity, registry, statement

_EXAM_TYPES = {
    "timed": v.TIMED_ASSESSMENT,
    "practice": v.PRACTICE_ASSESSMENT,
    "proctored": v.PROCTORED_ASSESSMENT,
}
_ACTIONS = {"created": v.INITIALIZED, "submitted": v.TERMINATED}
_EXAMS: dict[str, tuple[v.Verb, str]] = {
    f"edx.special_exam.{kind}.attempt.{action}": (verb, exam_type)
    for kind, exam_type in _EXAM_TYPES.items()
    for action, verb in _ACTIONS.items()
}

# A usage key (`block-v1:…`, `ccx-block-v1:…`, `i4x://…`) and anything else already shaped like an
# absolute IRI made of plain URI characters: a scheme, an optional authority, then path characters.
_USAGE_KEY = re.compile(
    r"[A-Za-z][A-Za-z0-9+.\-]*:"
    r"(?://[A-Za-z0-9\-._~!$&'()*+,;=]*(?=/|\Z)|(?!//))"
    r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*"
)
_ATTEMPT_PATH = "exam-attempt"


@registry.register(*_EXAMS)
def exam_attempt(event: TrackingEvent, options: Options) -> list[Json]:
    data = data_of(event)
    verb, exam_type = _EXAMS[event.name]
    name = _text(data.get("exam_name"))
    exam = activity(
        _exam_iri(data.get("exam_content_id")),
        exam_type,
        name=name,
        language="en",
        extensions={v.EXT_TIME_LIMIT: data.get("exam_default_time_limit_mins")},
    )
    course = course_activity(event, options, object_type=True)
    attempt = _attempt_activity(options, data, name)
    context_activities = {
        "parent": [course] if course else None,
        "grouping": [attempt] if attempt else None,
    }
    return [statement(event, options, verb, exam, context_activities=context_activities)]


def _exam_iri(content_id: Any) -> str:
    if not isinstance(content_id, str) or not content_id:
        raise TranslationError("exam event has no exam_content_id")
    if not _USAGE_KEY.fullmatch(content_id):
        raise TranslationError("exam_content_id is not a usage key")
    return content_id


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


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
