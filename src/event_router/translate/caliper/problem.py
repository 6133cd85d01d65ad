"""Problems: the learner submitted or was graded on a problem, viewed its answer or a hint.

Example: GradeEvent/Graded on the Attempt
http://lms/xblock/block-v1:edX+DemoX+Demo_Course+type@problem+block@3fc546…/user/32e08e30…/attempt/10,
generating a score of 0 out of 1.

`problem_check` from the server (`event_source` "server") is a GradeEvent on the learner's attempt;
every other `problem_check` is an AssessmentEvent "Submitted" on the problem. ERB reads
`event_source` from the context only, so it takes a tracking-log line (where the field sits at the
top level) for a browser event; the router folds top-level fields into the context when it reads
an event, so the same event is graded whatever layout it arrived in. Caliper has no per-question
fan-out: a problem with several questions is one event.
"""

from __future__ import annotations

from typing import Any

from event_router.events import TrackingEvent
from event_router.translate.caliper.common import Json, caliper_event, registry
from event_router.translate.errors import TranslationError
from event_router.translate.iri import iri_safe
from event_router.translate.options import Options
from event_router.translate.payload import form_block_id, number, referer_block_id

# name → (event type, action, object type, object name)
_KINDS: dict[str, tuple[str, str, str, str | None]] = {
    "problem_check": ("AssessmentEvent", "Submitted", "Assessment", None),
    "edx.grades.problem.submitted": ("AssessmentEvent", "Submitted", "Assessment", None),
    "showanswer": ("Event", "Viewed", "Annotation", "Solution"),
    "edx.problem.hint.demandhint_displayed": ("Event", "Viewed", "Annotation", "Hint"),
    "edx.problem.completed": ("AssessmentItemEvent", "Completed", "AssessmentItem", None),
}


def _usage_key(event: TrackingEvent, data: Json) -> str:
    """The problem: from the payload, else the referer's `activate_block_id`, else the form."""
    usage_key = data.get("problem_id", data.get("module_id"))
    if not usage_key or not isinstance(usage_key, str):
        usage_key = referer_block_id(event.context.get("referer")) or form_block_id(
            event.data, event.course_id
        )
    if not usage_key:
        # ERB sends the event with an object that has no id, which Caliper does not allow.
        raise TranslationError("no problem: no problem_id, activate_block_id nor input_ field")
    return usage_key


@registry.register(*_KINDS)
def problem_event(event: TrackingEvent, options: Options) -> list[Json]:
    data = event.data if isinstance(event.data, dict) else {}
    usage_key = _usage_key(event, data)
    if event.name == "problem_check" and event.context.get("event_source") == "server":
        return [_graded(event, options, data, usage_key)]
    event_type, action, object_type, object_name = _KINDS[event.name]
    iri = options.iri("xblock", usage_key)
    if event.name == "showanswer":
        iri += "/solution"
    elif event.name == "edx.problem.hint.demandhint_displayed":
        iri += f"/hint/{data.get('hint_index', '')}"
    obj = {"id": iri_safe(iri), "type": object_type, "name": object_name}
    return [caliper_event(event, options, event_type, action, obj)]


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
