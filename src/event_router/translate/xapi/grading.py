"""Grades: the learner earned a grade on a subsection or on the whole course.

Example: "Learner 32e08e30… earned 3 of 3 points (scaled 1.0) on
http://lms/xblock/block-v1:edX+DemoX+Demo_Course+type@sequential+block@a2184f…"; for the course:
"… earned 0.45 of 1.0 on http://lms/course/course-v1:edX+DemoX+Demo_Course, classification Fail".

Scores keep ERB's values (minimum 0, a weighted total as maximum, 0 as the scaled score when
nothing is possible) except where those values break xAPI's score rules: see `score()`.
`score()` and `number()` are shared with the problem family (`edx.grades.problem.submitted`,
`problem_check`).
"""

from __future__ import annotations

from typing import Any

from event_router.events import TrackingEvent
from event_router.translate.errors import TranslationError
from event_router.translate.iri import block_iri, iri_safe
from event_router.translate.options import Options
from event_router.translate.payload import Json, data_of, number, require_course
from event_router.translate.xapi import vocabulary as v
from event_router.translate.xapi.common import activity, registry, statement

# ERB reports the letter grade under this IRI (an activity-type IRI used as a result extension).
EXT_LETTER_GRADE = v.GRADE_CLASSIFICATION
# ERB's letter grade when the LMS sends none (a learner below every grade cutoff).
_NO_LETTER_GRADE = "Fail"


def score(raw: float | None, maximum: float | None, scaled: float | None) -> Json:
    """An xAPI score with ERB's values, made valid where ERB's are not.

    ERB always sends `min` 0 and whatever `max`, `raw` and `scaled` the event gives. xAPI wants
    min < max, raw within min..max and scaled within -1..1, so: a maximum of 0 or less (nothing
    possible) or below the raw score is left out, a negative raw score drops the minimum, and the
    scaled score is capped to -1..1. What remains still says what ERB's says.
    """
    minimum: float | None = 0
    if raw is not None and raw < 0:
        minimum = None
    if maximum is not None and (maximum <= 0 or (raw is not None and raw > maximum)):
        maximum = None
    if scaled is not None and not -1 <= scaled <= 1:
        scaled = 1.0 if scaled > 1 else -1.0
    return {"min": minimum, "max": maximum, "raw": raw, "scaled": scaled}


def weighted_result(earned: float | None, possible: float | None) -> Json:
    """ERB's result for weighted points: success when all possible points are earned."""
    earned = earned or 0
    possible = possible or 0
    scaled = earned / possible if possible > 0 else 0
    return {"success": earned >= possible, "score": score(earned, possible, scaled)}


def required(data: Json, key: str) -> Any:
    """A payload field ERB requires to be present (its value may still be null)."""
    if key not in data:
        raise TranslationError(f"event data has no {key}")
    return data[key]


@registry.register("edx.grades.subsection.grade_calculated")
def subsection_graded(event: TrackingEvent, options: Options) -> list[Json]:
    data = data_of(event)
    block_id = data.get("block_id")
    if not block_id or not isinstance(block_id, str):
        raise TranslationError("event data has no block_id")
    earned = number(required(data, "weighted_total_earned"), "weighted_total_earned")
    possible = number(required(data, "weighted_total_possible"), "weighted_total_possible")
    subsection = activity(iri_safe(block_iri(options, block_id)), v.RESOURCE)
    result = weighted_result(earned, possible)
    return [statement(event, options, v.EARNED, subsection, result=result)]


@registry.register("edx.grades.course.grade_calculated")
def course_graded(event: TrackingEvent, options: Options) -> list[Json]:
    course_id = require_course(event)
    data = data_of(event)
    percent = number(required(data, "percent_grade"), "percent_grade") or 0
    course = activity(
        iri_safe(options.iri("course", course_id)),
        v.COURSE,
        name=options.courses.name(course_id),
        language="en",
    )
    result = {
        "score": score(percent, 1.0, percent),
        "extensions": {EXT_LETTER_GRADE: data.get("letter_grade") or _NO_LETTER_GRADE},
    }
    return [statement(event, options, v.EARNED, course, result=result)]
