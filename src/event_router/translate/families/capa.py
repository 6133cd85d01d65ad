"""Problems (ERB's family): the learner submitted or was graded on a problem, viewed its answer
or a hint, completed it. The problem events ERB skips are in `problems.py`.

Example: "Learner 32e08e30… evaluated
http://lms/xblock/block-v1:edX+DemoX+Demo_Course+type@problem+block@3fc546… (choice question
'Add the question text…', attempt 10): incorrect, 0 of 1, response ["a correct answer", …]."

`problem_check` is one event name with three behaviours, so its row names its builders
(`capa_check.py`): from the browser, the form before grading (xAPI "attempted", Caliper
AssessmentEvent "Submitted"); from the server, the graded submission (xAPI "evaluated" with
success, score and response; Caliper a GradeEvent on the learner's Attempt); from the server for
a problem with several questions, one xAPI statement for the problem then one per question.

Caliper's object is the problem's block as ERB names it (`<LMS>/xblock/<usage key>`, the
solution and a hint under it), found in the payload, else the referer, else the browser's form.
"""

from __future__ import annotations

import re

from event_router.events import TrackingEvent
from event_router.translate import samples as s
from event_router.translate.errors import TranslationError
from event_router.translate.families import capa_check as check
from event_router.translate.families.grading import weighted_result
from event_router.translate.iri import iri_safe
from event_router.translate.options import Options
from event_router.translate.payload import Json, data_of, number, problem_usage_key, required
from event_router.translate.samples import Sample
from event_router.translate.table import Caliper, Row, Target, register
from event_router.translate.xapi import vocabulary as v

# What a bare usage key starts with (`block-v1:`, `ccx-block-v1:`, old `i4x://` keys).
_USAGE_KEY_START = re.compile(r"(?:ccx-)?block-v\d+:|i4x://")


# --- xAPI objects ----------------------------------------------------------------------------


def _problem_key(event: TrackingEvent) -> str:
    usage_key = problem_usage_key(data_of(event))
    if usage_key is None:
        raise TranslationError("event data has no problem_id nor module_id")
    return usage_key


def _required_text(data: Json, key: str) -> str:
    value = data.get(key)
    if not value or not isinstance(value, str):
        raise TranslationError(f"event data has no {key}")
    return value


def answer(event: TrackingEvent, options: Options, data: Json) -> Target:
    problem_id = _required_text(data_of(event), "problem_id")
    return Target(check.xblock_iri(options, problem_id, "/answer"))


def hint(event: TrackingEvent, options: Options, data: Json) -> Target:
    data = data_of(event)
    module_id = _required_text(data, "module_id")
    index = data.get("hint_index")
    if index is None or index == "" or isinstance(index, bool | dict | list):
        raise TranslationError("event data has no hint_index")
    return Target(check.xblock_iri(options, module_id, f"/hint/{index}"))


def completed_problem(event: TrackingEvent, options: Options, data: Json) -> Target:
    usage_key = _problem_key(event)
    # ERB's object id is the bare usage key (`block-v1:…`, an IRI with scheme `block-v1`).
    if not _USAGE_KEY_START.match(usage_key):
        raise TranslationError("problem_id is not a usage key")
    return Target(iri_safe(usage_key))


def submitted_problem(event: TrackingEvent, options: Options, data: Json) -> Target:
    return Target(check.xblock_iri(options, _problem_key(event)))


def weighted_points(data: Json) -> Json | None:
    earned = number(required(data, "weighted_earned"), "weighted_earned")
    possible = number(required(data, "weighted_possible"), "weighted_possible")
    if possible is None:
        # ERB sends a score "of 0", which analytics read as a real grade (docs/compatibility.md).
        raise TranslationError("weighted_possible is null: the problem's grade is unknown")
    return weighted_result(earned, possible)


# --- Caliper objects (ERB's: the problem's block, its solution, its hint) --------------------


def caliper_problem(event: TrackingEvent, options: Options, data: Json) -> Target:
    return Target(iri_safe(options.iri("xblock", check.caliper_usage_key(event, data))))


def caliper_solution(event: TrackingEvent, options: Options, data: Json) -> Target:
    iri = options.iri("xblock", check.caliper_usage_key(event, data)) + "/solution"
    return Target(iri_safe(iri), "Solution")


def caliper_hint(event: TrackingEvent, options: Options, data: Json) -> Target:
    iri = options.iri("xblock", check.caliper_usage_key(event, data))
    return Target(iri_safe(iri + f"/hint/{data.get('hint_index', '')}"), "Hint")


_SUBMITTED = Caliper("AssessmentEvent", "Submitted", "Assessment", about=caliper_problem)

ROWS = (
    # Built by `capa_check`: from the browser "attempted" with no result; several questions
    # make one statement each. Caliper from the server: GradeEvent / Graded / Attempt.
    Row(
        "problem_check",
        v.EVALUATED,
        v.INTERACTION,
        submitted_problem,
        caliper=Caliper(
            "AssessmentEvent",
            "Submitted",
            "Assessment",
            about=caliper_problem,
            events=check.caliper_events,
        ),
        statements=check.statements,
    ),
    Row(
        "showanswer",
        v.ASKED,
        v.SOLUTION,
        answer,
        caliper=Caliper("Event", "Viewed", "Annotation", about=caliper_solution),
    ),
    Row(
        "edx.problem.hint.demandhint_displayed",
        v.ASKED,
        v.SUPPLEMENTAL_INFO,
        hint,
        caliper=Caliper("Event", "Viewed", "Annotation", about=caliper_hint),
    ),
    Row(
        "edx.problem.completed",
        v.COMPLETED,
        v.INTERACTION,
        completed_problem,
        caliper=Caliper(
            "AssessmentItemEvent", "Completed", "AssessmentItem", about=caliper_problem
        ),
    ),
    Row(
        "edx.grades.problem.submitted",
        v.ATTEMPTED,
        v.QUESTION,
        submitted_problem,
        result=weighted_points,
        caliper=_SUBMITTED,
    ),
)


# Each event as the LMS logs it (the load generator emits these, the tests translate them).
def graded_check(about: s.About) -> Json:
    """A graded submission of a problem with one choice question, answered right."""
    question = f"{about.block.rsplit('@', 1)[-1]}_2_1"
    correct_map = {question: s.graded(True)}
    answers = {question: "choice_1"}
    submission = {
        "question": "Which of these is a prime number?",
        "answer": "choice_1",
        "response_type": "multiplechoiceresponse",
        "input_type": "choicegroup",
        "correct": True,
        "variant": "",
    }
    return {
        "answers": answers,
        "attempts": 1,
        "correct_map": correct_map,
        "grade": 1,
        "max_grade": 1,
        "problem_id": about.block,
        "state": {**s.STATE, "correct_map": correct_map, "student_answers": answers},
        "submission": {question: submission},
        "success": "correct",
    }


SAMPLES = {
    "problem_check": Sample("server", "problem", graded_check),
    "showanswer": Sample("server", "problem", lambda a: {"problem_id": a.block}),
    "edx.problem.hint.demandhint_displayed": Sample(
        "server",
        "problem",
        lambda a: {
            "hint_index": 0,
            "hint_len": 2,
            "hint_text": "Hint 1: read the question again.",
            "module_id": a.block,
        },
    ),
    "edx.problem.completed": Sample(
        "server",
        "problem",
        lambda a: {"course_id": a.course_id, "user_id": a.user_id, "problem_id": a.block},
    ),
    "edx.grades.problem.submitted": Sample(
        "server",
        "problem",
        lambda a: {
            "course_id": a.course_id,
            "user_id": str(a.user_id),
            "problem_id": a.block,
            "weighted_earned": 1,
            "weighted_possible": 1,
            "event_transaction_id": "7c1f0e4a-2b3d-4e5f-8a6b-9c0d1e2f3a4b",
            "event_transaction_type": "edx.grades.problem.submitted",
        },
    ),
}

register(ROWS, SAMPLES)
