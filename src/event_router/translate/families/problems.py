"""The problem events ERB skips: save, reset, rescore, show answer from the browser, graded,
the failures (`*_fail`) and the hint feedback.

Example: "Learner 32e08e30… saved http://lms/xblock/block-v1:…+type@problem+block@…";
a rescore is "evaluated" with the new score. The problem comes from the payload (`problem_id`,
`module_id`, `problem`), else the referer's `activate_block_id`, else the form's `input_…` field.
"""

from __future__ import annotations

from event_router.events import TrackingEvent
from event_router.translate import samples as s
from event_router.translate.errors import TranslationError
from event_router.translate.iri import block_iri, iri_safe
from event_router.translate.options import Options
from event_router.translate.payload import Json, form_block_id, referer_block_id
from event_router.translate.samples import Sample
from event_router.translate.table import (
    Caliper,
    Row,
    Target,
    combine,
    module_key,
    register,
    result_extensions,
    score,
    text,
)
from event_router.translate.xapi import vocabulary as v


def problem(event: TrackingEvent, options: Options, data: Json) -> Target:
    usage_key = (
        text(data, "problem_id")
        or text(data, "module_id")
        or text(data, "problem")
        or referer_block_id(event.context.get("referer"))
        or form_block_id(event.data, event.course_id)
        or module_key(event)
    )
    if usage_key is None:
        raise TranslationError("no problem: no problem_id, activate_block_id nor input_ field")
    return Target(iri_safe(block_iri(options, usage_key)))


def _rescored(data: Json) -> Json | None:
    out = score("new_score", "new_total")(data) or {}
    success = data.get("success")
    if success in ("correct", "incorrect"):
        out["success"] = success == "correct"
    return out


def _rescore_score(data: Json, iri: str) -> Json | None:
    return {
        "id": f"{iri}/score",
        "type": "Score",
        "scoreGiven": data.get("new_score"),
        "maxScore": data.get("new_total"),
    }


def _hint_feedback(data: Json) -> Json | None:
    out: Json = {
        "extensions": {
            v.EXT_TITLE: data.get("hint_label"),
            v.EXT_CORRECTNESS: data.get("correctness"),
            v.EXT_TRIGGER: data.get("trigger_type"),
        }
    }
    answer = data.get("student_answer")
    if isinstance(answer, list) and all(isinstance(a, str) for a in answer):
        out["response"] = "[,]".join(answer)
    return out


_FAILURE = result_extensions(failure=v.EXT_FAILURE)
_RESET = Caliper("AssessmentEvent", "Reset", "Assessment")
_SAVED = Caliper("AssessmentEvent", "Paused", "Assessment")

ROWS = (
    Row("problem_save", v.SAVED, v.INTERACTION, problem, caliper=_SAVED),
    Row("save_problem_success", v.SAVED, v.INTERACTION, problem, caliper=_SAVED),
    Row("save_problem_fail", v.ATTEMPTED, v.INTERACTION, problem, result=_FAILURE),
    Row("problem_reset", v.INTERACTED, v.INTERACTION, problem, caliper=_RESET),
    Row("reset_problem", v.INTERACTED, v.INTERACTION, problem, caliper=_RESET),
    Row("reset_problem_fail", v.ATTEMPTED, v.INTERACTION, problem, result=_FAILURE),
    Row("problem_check_fail", v.ATTEMPTED, v.INTERACTION, problem, result=_FAILURE),
    Row(
        "problem_rescore",
        v.EVALUATED,
        v.INTERACTION,
        problem,
        result=combine(_rescored, result_extensions(attempts=v.EXT_ATTEMPT_ID)),
        caliper=Caliper("GradeEvent", "Graded", "Attempt", generated=_rescore_score),
    ),
    Row("problem_rescore_fail", v.EVALUATED, v.INTERACTION, problem, result=_FAILURE),
    Row(
        "problem_graded",
        v.RECEIVED,
        v.INTERACTION,
        problem,
        caliper=Caliper("ViewEvent", "Viewed", "AssessmentItem"),
    ),
    Row(
        "problem_show",
        v.ASKED,
        v.SOLUTION,
        problem,
        caliper=Caliper("ViewEvent", "Viewed", "DigitalResource"),
    ),
    Row(
        "edx.problem.hint.feedback_displayed",
        v.VIEWED,
        v.SUPPLEMENTAL_INFO,
        problem,
        result=_hint_feedback,
        caliper=Caliper("ViewEvent", "Viewed", "DigitalResource"),
    ),
)


# Each event as the LMS logs it (the load generator emits these, the tests translate them).
SAMPLES = {
    "problem_save": Sample(
        "browser", "problem", lambda a: f"input_{a.block.rsplit('@', 1)[-1]}_2_1=choice_1"
    ),
    "save_problem_success": Sample(
        "server", "problem", lambda a: {"answers": {}, "problem_id": a.block, "state": s.STATE}
    ),
    "save_problem_fail": Sample(
        "server",
        "problem",
        lambda a: {"answers": {}, "failure": "done", "problem_id": a.block, "state": s.STATE},
    ),
    "problem_reset": Sample(
        "browser",
        "problem",
        lambda a: {"answers": f"input_{a.block.rsplit('@', 1)[-1]}_2_1=choice_1"},
    ),
    "reset_problem": Sample(
        "server",
        "problem",
        lambda a: {"new_state": s.STATE, "old_state": s.STATE, "problem_id": a.block},
    ),
    "reset_problem_fail": Sample(
        "server",
        "problem",
        lambda a: {"failure": "not_done", "old_state": s.STATE, "problem_id": a.block},
    ),
    "problem_check_fail": Sample(
        "server",
        "problem",
        lambda a: {"answers": {}, "failure": "closed", "problem_id": a.block, "state": s.STATE},
    ),
    "problem_rescore": Sample(
        "server",
        "problem",
        lambda a: {
            "attempts": 1,
            "correct_map": {"correctness": "correct", "msg": ""},
            "new_score": 1,
            "new_total": 1,
            "orig_score": 0,
            "orig_total": 1,
            "problem_id": a.block,
            "state": s.STATE,
            "success": "correct",
        },
    ),
    "problem_rescore_fail": Sample(
        "server",
        "problem",
        lambda a: {"failure": "unreset", "problem_id": a.block, "state": s.STATE},
    ),
    "problem_graded": Sample(
        "browser",
        "problem",
        lambda a: [f"input_{a.block.rsplit('@', 1)[-1]}_2_1=choice_1", "<div>correct</div>"],
    ),
    "problem_show": Sample("browser", "problem", lambda a: {"problem": a.block}),
    "edx.problem.hint.feedback_displayed": Sample(
        "server",
        "problem",
        lambda a: {
            "choice_all": ["choice_0"],
            "correctness": False,
            "hint_label": "Incorrect",
            "hints": [{"text": "Not quite."}],
            "module_id": a.block,
            "problem_part_id": "p1",
            "question_type": "multiplechoiceresponse",
            "student_answer": ["choice_0"],
            "trigger_type": "single",
        },
    ),
}

register(ROWS, SAMPLES)
