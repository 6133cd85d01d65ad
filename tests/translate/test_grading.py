"""Grade events (subsection and course grade calculated), xAPI: ERB's output on edge cases
(fixtures/grading, made by running ERB), validity of scores whatever the numbers, refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from event_router.events import normalise
from event_router.translate import TranslationError, translate
from event_router.translate.families.grading import score
from event_router.translate.xapi import vocabulary as v
from tests.conftest import erb_event, erb_options
from tests.support.translate import case_params, check_case, load_cases, ours

CASES = load_cases("grading")
SUBSECTION = "edx.grades.subsection.grade_calculated"
COURSE = "edx.grades.course.grade_calculated_letter_grade"
LMS = "http://localhost:18000"


def _raw(name: str) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(json.dumps(erb_event(name).raw))
    return raw


def test_fixtures_cover_every_expectation() -> None:
    assert {case["xapi"]["expect"] for case in CASES.values()} == {"same-as-erb", "refused"}


@pytest.mark.parametrize(("key", "protocol"), case_params(CASES))
def test_edge_case(key: str, protocol: str) -> None:
    check_case(CASES, key, protocol)


@pytest.mark.parametrize(
    ("raw", "maximum", "scaled", "expected"),
    [
        (3, 3, 1.0, {"min": 0, "max": 3, "raw": 3, "scaled": 1.0}),
        (0, 0, 0, {"min": 0, "max": None, "raw": 0, "scaled": 0}),  # nothing possible
        (1, 0, 0, {"min": 0, "max": None, "raw": 1, "scaled": 0}),
        (3, 2, 1.5, {"min": 0, "max": None, "raw": 3, "scaled": 1.0}),  # above the maximum
        (-1, 2, -0.5, {"min": None, "max": 2, "raw": -1, "scaled": -0.5}),
        (-4, 2, -2.0, {"min": None, "max": 2, "raw": -4, "scaled": -1.0}),
        (None, None, None, {"min": 0, "max": None, "raw": None, "scaled": None}),
    ],
)
def test_score_keeps_erb_values_where_valid(
    raw: Any, maximum: Any, scaled: Any, expected: dict[str, Any]
) -> None:
    assert score(raw, maximum, scaled) == expected


_points = st.one_of(st.none(), st.integers(-5, 50), st.floats(-5, 50, allow_nan=False))


@settings(max_examples=150, deadline=None)
@given(earned=_points, possible=_points)
def test_subsection_score_is_always_valid(earned: Any, possible: Any) -> None:
    raw = _raw(SUBSECTION)
    raw["data"].update(weighted_total_earned=earned, weighted_total_possible=possible)
    (statement,) = ours(raw, "xapi")
    assert statement["verb"] == v.EARNED.value
    assert statement["result"]["success"] is ((earned or 0) >= (possible or 0))


@settings(max_examples=100, deadline=None)
@given(percent=st.one_of(st.none(), st.floats(-0.5, 1.5, allow_nan=False)))
def test_course_score_is_always_valid(percent: Any) -> None:
    raw = _raw(COURSE)
    raw["data"]["percent_grade"] = percent
    (statement,) = ours(raw, "xapi")
    assert statement["result"]["score"]["raw"] == (percent or 0)


def test_course_grade_carries_the_letter_grade() -> None:
    (statement,) = ours(_raw(COURSE), "xapi")
    assert statement["object"]["id"] == f"{LMS}/course/course-v1:edX+DemoX+Demo_Course"
    assert statement["object"]["definition"]["name"] == {"en": "Demonstration Course"}
    assert statement["result"]["extensions"] == {v.GRADE_CLASSIFICATION: "Pass"}
    assert "success" not in statement["result"]


def test_course_unknown_to_the_catalogue_has_no_name() -> None:
    raw = _raw(COURSE)
    raw["context"]["course_id"] = "course-v1:Other+X+2024"
    (statement,) = translate(normalise(raw), "xapi", erb_options())
    assert "name" not in statement["object"]["definition"]
    assert "name" not in statement["context"]["contextActivities"]["parent"][0]["definition"]


@pytest.mark.parametrize(
    ("name", "field", "value"),
    [
        (SUBSECTION, "weighted_total_earned", "3.0"),
        (SUBSECTION, "weighted_total_possible", False),
        (COURSE, "percent_grade", "0.5"),
    ],
)
def test_grade_that_is_not_a_number_is_refused(name: str, field: str, value: Any) -> None:
    raw = _raw(name)
    raw["data"][field] = value
    with pytest.raises(TranslationError, match=field):
        translate(normalise(raw), "xapi", erb_options())


@pytest.mark.parametrize("name", [SUBSECTION, COURSE])
def test_no_learner_is_refused(name: str) -> None:
    raw = _raw(name)
    for holder in (raw, raw["context"], raw["data"]):
        holder.pop("user_id", None)
        holder.pop("username", None)
    with pytest.raises(TranslationError, match="learner"):
        translate(normalise(raw), "xapi", erb_options())


@pytest.mark.parametrize("name", [SUBSECTION, COURSE])
@pytest.mark.parametrize("data", ["not an object", [1, 2]])
def test_payload_that_is_not_an_object_is_refused(name: str, data: Any) -> None:
    raw = _raw(name)
    raw["data"] = data
    with pytest.raises(TranslationError):
        translate(normalise(raw), "xapi", erb_options())


@pytest.mark.parametrize("name", [SUBSECTION, "edx.grades.course.grade_calculated"])
def test_no_caliper_translation(name: str) -> None:
    raw = _raw(SUBSECTION)
    raw["name"] = name
    with pytest.raises(TranslationError):
        translate(normalise(raw), "caliper", erb_options())
