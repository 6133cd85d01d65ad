"""Grades (ERB's family): the learner earned a grade on a subsection or on the whole course.

Example: "Learner 32e08e30… earned 3 of 3 points (scaled 1.0) on
http://lms/xblock/block-v1:edX+DemoX+Demo_Course+type@sequential+block@a2184f…"; for the course:
"… earned 0.45 of 1.0 on http://lms/course/course-v1:edX+DemoX+Demo_Course, classification Fail".

Scores keep ERB's values (minimum 0, a weighted total as maximum, 0 as the scaled score when
nothing is possible) except where those values break xAPI's score rules: see `score()`.
`score()` and `weighted_result()` also serve ERB's problem events (`families/capa.py`).
Caliper: ERB has none for these events.
"""

from __future__ import annotations

from event_router.events import TrackingEvent
from event_router.translate import samples as s
from event_router.translate.errors import TranslationError
from event_router.translate.iri import block_iri, iri_safe
from event_router.translate.options import Options
from event_router.translate.payload import Json, data_of, number, require_course, required
from event_router.translate.samples import Sample
from event_router.translate.table import Row, Target, register
from event_router.translate.xapi import vocabulary as v

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


# --- Objects and results ---------------------------------------------------------------------


def subsection(event: TrackingEvent, options: Options, data: Json) -> Target:
    block_id = data_of(event).get("block_id")
    if not block_id or not isinstance(block_id, str):
        raise TranslationError("event data has no block_id")
    return Target(iri_safe(block_iri(options, block_id)))


def subsection_points(data: Json) -> Json | None:
    earned = number(required(data, "weighted_total_earned"), "weighted_total_earned")
    possible = number(required(data, "weighted_total_possible"), "weighted_total_possible")
    return weighted_result(earned, possible)


def graded_course(event: TrackingEvent, options: Options, data: Json) -> Target:
    course_id = require_course(event)
    data_of(event)  # refuses a payload that is no object, before the grade is read
    return Target(iri_safe(options.iri("course", course_id)), options.courses.name(course_id))


def course_grade(data: Json) -> Json | None:
    percent = number(required(data, "percent_grade"), "percent_grade") or 0
    return {
        "score": score(percent, 1.0, percent),
        "extensions": {EXT_LETTER_GRADE: data.get("letter_grade") or _NO_LETTER_GRADE},
    }


ROWS = (
    Row(
        "edx.grades.subsection.grade_calculated",
        v.EARNED,
        v.RESOURCE,
        subsection,
        result=subsection_points,
    ),
    Row(
        "edx.grades.course.grade_calculated",
        v.EARNED,
        v.COURSE,
        graded_course,
        result=course_grade,
        language="en",
    ),
)


# Each event as the LMS logs it, after a problem submission (what the load generator emits).
def graded(about: s.About, **more: object) -> Json:
    """What both grade events carry: the learner, the course and the grading transaction."""
    return {
        "user_id": str(about.user_id),
        "course_id": about.course_id,
        "course_version": s.hex_id(about.course_id, "version")[:24],
        "event_transaction_id": "7c1f0e4a-2b3d-4e5f-8a6b-9c0d1e2f3a4b",
        "event_transaction_type": "edx.grades.problem.submitted",
        **more,
    }


SAMPLES = {
    "edx.grades.subsection.grade_calculated": Sample(
        "server",
        "sequential",
        lambda a: graded(
            a,
            block_id=a.block,
            weighted_total_earned=2.0,
            weighted_total_possible=3.0,
            weighted_graded_earned=2.0,
            weighted_graded_possible=3.0,
            first_attempted=a.time,
            subtree_edited_timestamp=a.time,
            visible_blocks_hash=s.hex_id(a.block, "visible")[:27] + "=",
        ),
    ),
    "edx.grades.course.grade_calculated": Sample(
        "server",
        "",
        lambda a: graded(
            a,
            percent_grade=0.67,
            letter_grade="Pass",
            course_edited_timestamp=a.time,
            grading_policy_hash=s.hex_id(a.course_id, "policy")[:27] + "=",
        ),
    ),
}

register(ROWS, SAMPLES)
