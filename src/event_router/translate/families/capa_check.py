"""`problem_check`'s builders, for the row in `capa.py`: the one problem event that one row of
fields cannot describe, as it behaves three ways.

- From the browser (`event_source` "browser"): the form data as a query string, nothing graded
  yet. xAPI verb "attempted"; the problem comes from the referer's `activate_block_id` or from the
  first `input_<block id>_…` field of the form. No result. Caliper: AssessmentEvent "Submitted".
- From the server: the graded submission. xAPI verb "evaluated", with success, score and the
  learner's response (a list of answers is JSON-encoded); the interaction type follows the
  question's `response_type` ("other" when unknown). Caliper: a GradeEvent on the learner's
  Attempt, generating the score.
- From the server, for a problem with several questions: one xAPI statement for the whole problem
  (interaction type "other"), then one per question, whose id comes from the question id, whose
  context names the problem as parent, the course as grouping and the problem's statement.
  Caliper has no per-question fan-out: one event.

ERB marks the whole problem as objectType "GroupActivity", which xAPI does not have (an LRS rejects
the statement); it is an "Activity" here, and its questions still point to it as their parent.
ERB's Caliper reads `event_source` from the context only, so it takes a tracking-log line (where
the field sits at the top level) for a browser event; the router folds top-level fields into the
context when it reads an event, so the same event is graded whatever layout it arrived in.
"""

from __future__ import annotations

import json
from typing import Any

from event_router.events import TrackingEvent
from event_router.translate.caliper.common import caliper_event
from event_router.translate.errors import TranslationError
from event_router.translate.families.grading import score
from event_router.translate.iri import block_iri, iri_safe
from event_router.translate.options import Options
from event_router.translate.payload import (
    Json,
    data_of,
    form_block_id,
    number,
    problem_usage_key,
    referer_block_id,
)
from event_router.translate.table import activity, course_activity, payload, statement
from event_router.translate.xapi import vocabulary as v

OTHER = "other"
# Open edX response types → xAPI interaction types (ERB's table); anything else is "other".
INTERACTION_TYPES = {
    "choiceresponse": "choice",
    "multiplechoiceresponse": "choice",
    "numericalresponse": "numeric",
    "stringresponse": "fill-in",
    "customresponse": OTHER,
    "coderesponse": OTHER,
    "externalresponse": OTHER,
    "formularesponse": "fill-in",
    "schematicresponse": OTHER,
    "imageresponse": "matching",
    "annotationresponse": "fill-in",
    "choicetextresponse": "choice",
    "optionresponse": "choice",
    "symbolicresponse": "fill-in",
    "truefalseresponse": "true-false",
}


# --- Where the problem is --------------------------------------------------------------------


def from_browser(event: TrackingEvent) -> bool:
    return event.context.get("event_source") == "browser"


def xblock_iri(options: Options, usage_key: str, suffix: str = "") -> str:
    """`<LMS>/xblock/<usage key><suffix>`, percent-encoding what an IRI cannot hold."""
    return iri_safe(block_iri(options, usage_key) + suffix)


def _browser_usage_key(event: TrackingEvent) -> str:
    usage_key = referer_block_id(event.context.get("referer")) or form_block_id(
        event.data, event.course_id
    )
    if usage_key is None and isinstance(event.data, dict):
        usage_key = problem_usage_key(event.data)
    if usage_key is None:
        raise TranslationError("no problem: no activate_block_id nor input_ field")
    return usage_key


def caliper_usage_key(event: TrackingEvent, data: Json) -> str:
    """Caliper's problem: from the payload, else the referer's `activate_block_id`, else the
    form (ERB's order, which differs from xAPI's for browser events)."""
    usage_key = data.get("problem_id", data.get("module_id"))
    if not usage_key or not isinstance(usage_key, str):
        usage_key = referer_block_id(event.context.get("referer")) or form_block_id(
            event.data, event.course_id
        )
    if not usage_key:
        # ERB sends the event with an object that has no id, which Caliper does not allow.
        raise TranslationError("no problem: no problem_id, activate_block_id nor input_ field")
    return usage_key


# --- Questions, answers, grades --------------------------------------------------------------


def _interaction(response_type: Any) -> str:
    return INTERACTION_TYPES.get(response_type, OTHER) if isinstance(response_type, str) else OTHER


def _first_submission(submissions: Json) -> Json | None:
    """The first question that names its response type (ERB describes the problem by it)."""
    for submission in submissions.values():
        if isinstance(submission, dict) and submission.get("response_type"):
            return submission
    return None


def _any_interaction(submissions: Json) -> str:
    """The interaction type of the first question that has a `response_type` key at all."""
    for submission in submissions.values():
        if isinstance(submission, dict) and submission.get("response_type") is not None:
            return _interaction(submission["response_type"])
    return OTHER


def _display_name(event: TrackingEvent, data: Json) -> Any:
    module = event.context.get("module")
    if isinstance(module, dict) and module.get("display_name"):
        return module["display_name"]
    return data.get("display_name")


def _response(answer: Any) -> str | None:
    """xAPI wants a string: a list of answers as JSON (as ERB), anything else as ERB's `str()`."""
    if answer is None or isinstance(answer, str):
        return answer
    if isinstance(answer, list):
        return json.dumps(answer, ensure_ascii=False)
    return str(answer)


def _success(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _question(
    iri: str,
    data: Json,
    submission: Json | None,
    display_name: Any,
    interaction: str,
) -> Json:
    """A problem or question: described by its question text, else named by the problem's name."""
    attempts = data.get("attempts")
    return activity(
        iri,
        v.INTERACTION,
        name=None if submission else display_name,
        description=submission.get("question") if submission else None,
        extensions={v.EXT_ATTEMPT_ID: attempts} if attempts else None,
        interactionType=interaction,
    )


def _graded_result(data: Json, submission: Json | None) -> Json:
    """Success and response of `submission` (the whole problem's when None), and the score."""
    if submission:
        answer, success = submission.get("answer"), submission.get("correct")
    else:
        answer, success = data.get("answers"), data.get("success") == "correct"
    maximum = number(data.get("max_grade"), "max_grade")
    grade = number(data.get("grade"), "grade")
    scaled = None
    if maximum is not None and grade is not None:
        scaled = grade / maximum if maximum > 0 else 0
    return {
        "success": _success(success),
        "score": score(grade, maximum, scaled),
        "response": _response(answer),
    }


def _question_result(data: Json, submission: Any) -> Json:
    """A question of a multi-question problem: its own success and response, no score."""
    if isinstance(submission, dict) and submission:
        return {
            "success": _success(submission.get("correct")),
            "response": _response(submission.get("answer")),
        }
    return {"success": data.get("success") == "correct"}


# --- xAPI ------------------------------------------------------------------------------------


def statements(event: TrackingEvent, options: Options) -> list[Json]:
    """`problem_check` as xAPI: attempted (browser), evaluated (server), fanned out per question."""
    if from_browser(event):
        return [_browser_check(event, options)]
    data = data_of(event)
    usage_key = problem_usage_key(data)
    if usage_key is None:
        raise TranslationError("event data has no problem_id nor module_id")
    submissions = data.get("submission")
    if not isinstance(submissions, dict):
        submissions = {}
    if len(submissions) > 1:
        return _multi_question_check(event, options, data, usage_key, submissions)
    submission = _first_submission(submissions)
    if submission is not None:
        interaction = _interaction(submission["response_type"])
    else:
        interaction = _any_interaction(submissions)
    problem = _question(
        xblock_iri(options, usage_key), data, submission, _display_name(event, data), interaction
    )
    result = _graded_result(data, submission)
    return [statement(event, options, v.EVALUATED, problem, result=result)]


def _browser_check(event: TrackingEvent, options: Options) -> Json:
    data = event.data if isinstance(event.data, dict) else {}
    problem = _question(
        xblock_iri(options, _browser_usage_key(event)),
        data,
        None,
        _display_name(event, data),
        OTHER,
    )
    return statement(event, options, v.ATTEMPTED, problem)


def _multi_question_check(
    event: TrackingEvent, options: Options, data: Json, usage_key: str, submissions: Json
) -> list[Json]:
    display_name = _display_name(event, data)
    first = _first_submission(submissions)
    problem = _question(xblock_iri(options, usage_key), data, first, display_name, OTHER)
    parent = statement(event, options, v.EVALUATED, problem, result=_graded_result(data, first))
    course = course_activity(event, options, object_type=True)
    context_activities = {"parent": [problem], "grouping": [course] if course else None}
    # A question's usage key: the problem's, with the last `@` part replaced by the question id.
    stem = usage_key.rpartition("@")[0]
    out = [parent]
    for question_id, submission in submissions.items():
        own = submission if isinstance(submission, dict) and submission else None
        question = _question(
            xblock_iri(options, f"{stem}@{question_id}" if stem else question_id),
            data,
            own,
            display_name,
            _interaction(own.get("response_type")) if own else _any_interaction(submissions),
        )
        child = statement(
            event,
            options,
            v.EVALUATED,
            question,
            result=_question_result(data, own),
            context_activities=context_activities,
            child_id=question_id,
            parent_id=parent["id"],
        )
        out.append(child)
    return out


# --- Caliper ---------------------------------------------------------------------------------


def caliper_events(event: TrackingEvent, options: Options) -> list[Json]:
    """`problem_check` as Caliper: the graded Attempt (server), else the submitted problem."""
    data = payload(event)
    usage_key = caliper_usage_key(event, data)
    if event.context.get("event_source") == "server":
        return [_graded(event, options, data, usage_key)]
    obj = {"id": iri_safe(options.iri("xblock", usage_key)), "type": "Assessment", "name": None}
    return [caliper_event(event, options, "AssessmentEvent", "Submitted", obj)]


def _graded(event: TrackingEvent, options: Options, data: Json, usage_key: str) -> Json:
    """The learner's attempt, graded: ERB's Attempt object and generated score."""
    actor_id = options.identity.caliper_actor_id(event)
    learner = actor_id.removeprefix(options.iri("user", ""))
    attempts: Any = data.get("attempts", "")
    course_id = event.course_id
    attempt = {
        "id": iri_safe(options.iri("xblock", f"{usage_key}/user/{learner}/attempt/{attempts}")),
        "type": "Attempt",
        "extensions": {
            "isPartOf": (
                {"id": iri_safe(options.iri("course", course_id)), "type": "CourseOffering"}
                if course_id
                else None
            ),
            "assignee": {"id": actor_id, "type": "Person"},
            "assignable": {"id": iri_safe(options.iri("xblock", usage_key)), "type": "Assessment"},
            "count": attempts,
        },
    }
    generated = {
        "score": {
            "id": "_:score",
            "type": "Score",
            "maxScore": number(data.get("max_grade"), "max_grade"),
            "scoreGiven": number(data.get("grade"), "grade"),
            "attempts": data.get("attempts"),
            "extensions": {"success": "True" if data.get("success") == "correct" else "False"},
        }
    }
    return caliper_event(event, options, "GradeEvent", "Graded", attempt, generated=generated)
