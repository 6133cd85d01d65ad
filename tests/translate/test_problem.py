"""Problem events (problem_check in its three behaviours, showanswer, hints, problem submitted and
completed), xAPI and Caliper: ERB's output on edge cases (fixtures/problem, made by running ERB),
refusals, validity of every output, and the multi-question fan-out.

The case helpers (`load_cases`, `case_params`, `check_case`) also serve test_grading and
test_completion.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from event_router.events import normalise
from event_router.translate import TranslationError, translate
from event_router.translate.families.capa_check import INTERACTION_TYPES
from event_router.translate.xapi import vocabulary as v
from tests.conftest import erb_event, erb_options
from tests.support.translate import (
    case_params,
    check_case,
    load_cases,
    ours,
)

LMS = "http://localhost:18000"
COURSE_IRI = f"{LMS}/course/course-v1:edX+DemoX+Demo_Course"
SERVER = "problem_check(server)"
BROWSER = "problem_check(browser)"
MULTI = "problem_check(server,multiple_questions,correct)"
PROBLEM_NAMES = (
    "problem_check",
    "showanswer",
    "edx.problem.hint.demandhint_displayed",
    "edx.grades.problem.submitted",
    "edx.problem.completed",
)


# ---------------------------------------------------------------------------------------------
# Edge cases checked against ERB (shared with test_grading and test_completion)


CASES = load_cases("problem")


def test_fixtures_cover_every_expectation() -> None:
    expects = {case[p]["expect"] for case in CASES.values() for p in ("xapi", "caliper")}
    assert expects == {"same-as-erb", "refused", "translated"}


@pytest.mark.parametrize(("key", "protocol"), case_params(CASES))
def test_edge_case(key: str, protocol: str) -> None:
    check_case(CASES, key, protocol)


# ---------------------------------------------------------------------------------------------
# problem_check


def _raw(name: str) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(json.dumps(erb_event(name).raw))
    return raw


def _server(**submission: Any) -> dict[str, Any]:
    raw = _raw(SERVER)
    (only,) = raw["data"]["submission"].values()
    only.update(submission)
    return raw


@pytest.mark.parametrize(
    ("response_type", "interaction"),
    [*INTERACTION_TYPES.items(), ("non_existent", "other"), ("brandnewresponse", "other")],
)
def test_interaction_type_follows_response_type(response_type: str, interaction: str) -> None:
    (statement,) = ours(_server(response_type=response_type), "xapi")
    assert statement["object"]["definition"]["interactionType"] == interaction


@pytest.mark.parametrize(
    ("answer", "response"),
    [
        (["a", "b"], '["a", "b"]'),
        (["ü"], '["ü"]'),
        ("text", "text"),
        (3.5, "3.5"),
        ({"x": ["y"]}, "{'x': ['y']}"),  # ERB's str() of a dict, kept as ERB sends it
    ],
)
def test_response_is_a_string(answer: Any, response: str) -> None:
    (statement,) = ours(_server(answer=answer), "xapi")
    assert statement["result"]["response"] == response


def test_browser_check_is_an_attempt_without_result() -> None:
    (statement,) = ours(_raw(BROWSER), "xapi")
    assert statement["verb"] == v.ATTEMPTED.value
    assert "result" not in statement
    assert statement["object"]["id"] == (
        f"{LMS}/xblock/block-v1:edX+DemoX+Demo_Course+type@problem+block@"
        "3fc5461f86764ad7bdbdf6cbdde61e66"
    )


def test_server_check_is_evaluated_with_result() -> None:
    (statement,) = ours(_raw(SERVER), "xapi")
    assert statement["verb"] == v.EVALUATED.value
    assert statement["result"] == {
        "success": False,
        "score": {"min": 0, "max": 1, "raw": 0, "scaled": 0},
        "response": '["a correct answer", "an incorrect answer"]',
    }


def _multi() -> dict[str, Any]:
    raw = _raw(MULTI)
    context = dict(raw["context"], session=raw["session"], referer=raw["referer"])
    context.update(event_source="server", username=raw["username"])
    return {"name": raw["name"], "timestamp": raw["time"], "data": raw["event"], "context": context}


def test_multi_question_fan_out() -> None:
    parent, *children = ours(_multi(), "xapi")
    assert len(children) == 3
    problem = parent["object"]
    assert problem["objectType"] == "Activity"  # ERB's "GroupActivity" is no xAPI objectType
    assert problem["definition"]["interactionType"] == "other"
    ids = {parent["id"], *(child["id"] for child in children)}
    assert len(ids) == 4
    stem = problem["id"].rpartition("@")[0]
    for child, question in zip(children, _multi()["data"]["submission"], strict=True):
        assert child["object"]["id"] == f"{stem}@{question}"
        assert child["context"]["statement"] == {"objectType": "StatementRef", "id": parent["id"]}
        activities = child["context"]["contextActivities"]
        assert activities["parent"] == [problem]
        assert [a["id"] for a in activities["grouping"]] == [COURSE_IRI]
        assert "score" not in child["result"]
    # deterministic: the same event gives the same ids
    assert [s["id"] for s in ours(_multi(), "xapi")] == [parent["id"], *(c["id"] for c in children)]


def test_multi_question_is_one_caliper_event() -> None:
    (event,) = ours(_multi(), "caliper")
    assert (event["type"], event["action"]) == ("GradeEvent", "Graded")


def test_single_question_does_not_fan_out() -> None:
    assert len(ours(_raw(SERVER), "xapi")) == 1


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("server", ("GradeEvent", "Graded", "Attempt")),
        ("browser", ("AssessmentEvent", "Submitted", "Assessment")),
    ],
)
def test_caliper_kind_follows_event_source(source: str, expected: tuple[str, ...]) -> None:
    raw = _raw(SERVER)
    raw["context"]["event_source"] = source
    (event,) = ours(raw, "caliper")
    assert (event["type"], event["action"], event["object"]["type"]) == expected


def test_caliper_graded_attempt() -> None:
    (event,) = ours(_raw(SERVER), "caliper")
    anonymous = "32e08e30-f8ae-4ce2-94a8-c2bfe38a70cb"
    learner = f"{LMS}/user/{anonymous}"
    problem = f"{LMS}/xblock/block-v1:edX+DemoX+Demo_Course+type@problem+block@" + (
        "3fc5461f86764ad7bdbdf6cbdde61e66"
    )
    assert event["object"]["id"] == f"{problem}/user/{anonymous}/attempt/10"
    assert event["object"]["extensions"]["assignee"] == {"id": learner, "type": "Person"}
    assert event["object"]["extensions"]["assignable"] == {"id": problem, "type": "Assessment"}
    assert event["generated"]["score"]["scoreGiven"] == 0


# ---------------------------------------------------------------------------------------------
# Scores stay valid whatever the numbers


_points = st.one_of(st.none(), st.integers(-5, 50), st.floats(-5, 50, allow_nan=False))


@settings(max_examples=150, deadline=None)
@given(grade=_points, max_grade=_points)
def test_problem_check_score_is_always_valid(grade: Any, max_grade: Any) -> None:
    raw = _raw(SERVER)
    raw["data"].update(grade=grade, max_grade=max_grade)
    (statement,) = ours(raw, "xapi")
    assert statement["result"]["score"].get("min") == 0 or (grade is not None and grade < 0)


@settings(max_examples=150, deadline=None)
@given(earned=_points, possible=_points)
def test_problem_submitted_score_is_always_valid(earned: Any, possible: Any) -> None:
    raw = _raw("edx.grades.problem.submitted")
    raw["data"].update(weighted_earned=earned, weighted_possible=possible)
    if possible is None:  # an unknown maximum is refused (docs/compatibility.md)
        with pytest.raises(TranslationError, match="weighted_possible is null"):
            ours(raw, "xapi")
        return
    (statement,) = ours(raw, "xapi")
    assert statement["result"]["success"] is ((earned or 0) >= possible)


# ---------------------------------------------------------------------------------------------
# Refusals


def _fixture_of(name: str) -> str:
    return {
        "problem_check": SERVER,
        "edx.problem.completed": "edx.problem.completed(proposed)",
    }.get(name, name)


@pytest.mark.parametrize("protocol", ["xapi", "caliper"])
@pytest.mark.parametrize("name", PROBLEM_NAMES)
def test_no_learner_is_refused(name: str, protocol: str) -> None:
    raw = _raw(_fixture_of(name))
    for holder in (raw, raw["context"], raw.get("data") or {}):
        if isinstance(holder, dict):
            holder.pop("user_id", None)
            holder.pop("username", None)
    with pytest.raises(TranslationError, match="learner"):
        translate(normalise(raw), protocol, erb_options())


@pytest.mark.parametrize("protocol", ["xapi", "caliper"])
def test_browser_check_without_course_nor_block_is_refused(protocol: str) -> None:
    raw = _raw(BROWSER)
    del raw["context"]["course_id"]
    with pytest.raises(TranslationError, match="problem"):
        translate(normalise(raw), protocol, erb_options())


@pytest.mark.parametrize("data", [["a", "list"], "input_abc_1=2", 7])
def test_server_check_payload_that_is_not_an_object_is_refused(data: Any) -> None:
    raw = _raw(SERVER)
    raw["data"] = data
    with pytest.raises(TranslationError):
        translate(normalise(raw), "xapi", erb_options())


@pytest.mark.parametrize("name", PROBLEM_NAMES[1:])
def test_payload_that_is_not_an_object_is_refused(name: str) -> None:
    raw = _raw(_fixture_of(name))
    raw["data"] = "not an object"
    with pytest.raises(TranslationError):
        translate(normalise(raw), "xapi", erb_options())


@pytest.mark.parametrize(
    ("name", "field", "value", "protocol"),
    [
        (SERVER, "grade", "1", "xapi"),
        (SERVER, "grade", "1", "caliper"),
        (SERVER, "max_grade", True, "xapi"),
        (SERVER, "max_grade", True, "caliper"),
        ("edx.grades.problem.submitted", "weighted_earned", "0.5", "xapi"),
        ("edx.grades.problem.submitted", "weighted_possible", [1], "xapi"),
    ],
)
def test_grade_that_is_not_a_number_is_refused(
    name: str, field: str, value: Any, protocol: str
) -> None:
    raw = _raw(name)
    raw["data"][field] = value
    with pytest.raises(TranslationError, match=field):
        translate(normalise(raw), protocol, erb_options())


@pytest.mark.parametrize("problem_id", ["string", "12.5", " ", "http//x"])
def test_completed_problem_id_that_is_no_usage_key_is_refused(problem_id: str) -> None:
    raw = _raw("edx.problem.completed(proposed)")
    raw["data"]["problem_id"] = problem_id
    with pytest.raises(TranslationError, match="usage key"):
        translate(normalise(raw), "xapi", erb_options())


@pytest.mark.parametrize("protocol", ["xapi", "caliper"])
def test_odd_characters_in_a_usage_key_are_percent_encoded(protocol: str) -> None:
    raw = _raw("showanswer")
    raw["data"]["problem_id"] = "block-v1:edX+DemoX+Demo_Course+type@problem+block@a b<c>"
    (output,) = ours(raw, protocol)
    assert output["object"]["id"].startswith(
        f"{LMS}/xblock/block-v1:edX+DemoX+Demo_Course+type@problem+block@a%20b%3Cc%3E/"
    )
