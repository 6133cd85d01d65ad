"""Special-exam events: ERB's output on edge cases (fixtures/exam, made by running ERB), refusals,
and cases where ERB fails but a valid statement can be made."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from event_router.events import normalise
from event_router.routing.catalogue import CourseCatalogue
from event_router.translate import Options, TranslationError, translate
from event_router.translate.xapi import vocabulary as v
from tests.conftest import erb_event, erb_options
from tests.support.translate import _apply, _xapi_comparable
from tests.validation import assert_valid_xapi

CASES_DIR = Path(__file__).parent / "fixtures" / "exam"
CASES: dict[str, dict[str, Any]] = {
    path.stem: json.loads(path.read_text()) for path in sorted(CASES_DIR.glob("*.json"))
}
LMS = "http://localhost:18000"
ATTEMPT_IRI = f"{LMS}/exam-attempt/438AD672-DE2C-4F0B-8876-35444E7DD746"
EXAMS = {
    "edx.special_exam.timed.attempt.created": (v.INITIALIZED, v.TIMED_ASSESSMENT),
    "edx.special_exam.timed.attempt.submitted": (v.TERMINATED, v.TIMED_ASSESSMENT),
    "edx.special_exam.practice.attempt.created": (v.INITIALIZED, v.PRACTICE_ASSESSMENT),
    "edx.special_exam.practice.attempt.submitted": (v.TERMINATED, v.PRACTICE_ASSESSMENT),
    "edx.special_exam.proctored.attempt.created": (v.INITIALIZED, v.PROCTORED_ASSESSMENT),
    "edx.special_exam.proctored.attempt.submitted": (v.TERMINATED, v.PROCTORED_ASSESSMENT),
}
SUBMITTED = "edx.special_exam.timed.attempt.submitted"


def _cases(expect: str) -> list[str]:
    return [name for name, case in CASES.items() if case["expect"] == expect]


def _raw(name: str) -> dict[str, Any]:
    """A fresh copy of one of ERB's golden events, as JSON, to change."""
    raw: dict[str, Any] = json.loads(json.dumps(erb_event(name).raw))
    return raw


@pytest.fixture(scope="module")
def exam_options() -> Options:
    """ERB's setup, where the LMS names every course (CCX ones included) "Demonstration Course"."""
    courses = {case["event"]["context"].get("course_id") for case in CASES.values()}
    names = {course: "Demonstration Course" for course in courses if course}
    return dataclasses.replace(erb_options(), courses=CourseCatalogue(names))


def _ours(event: dict[str, Any], options: Options) -> list[dict[str, Any]]:
    statements = translate(normalise(event), "xapi", options)
    for statement in statements:
        assert_valid_xapi(statement)
    return statements


def test_fixtures_cover_every_expectation() -> None:
    assert {case["expect"] for case in CASES.values()} == {"same-as-erb", "refused", "translated"}


@pytest.mark.parametrize("name", _cases("same-as-erb"))
def test_same_as_erb(name: str, exam_options: Options) -> None:
    case = CASES[name]
    ours = [_xapi_comparable(s) for s in _ours(case["event"], exam_options)]
    theirs = [_xapi_comparable(s) for s in case["erb"]]
    differences = case.get("differences", {})
    theirs = [_apply(s, differences.get(str(i), {})) for i, s in enumerate(theirs)]
    assert ours == theirs


@pytest.mark.parametrize("name", _cases("refused"))
def test_refused(name: str, exam_options: Options) -> None:
    with pytest.raises(TranslationError):
        translate(normalise(CASES[name]["event"]), "xapi", exam_options)


@pytest.mark.parametrize("name", _cases("translated"))
def test_translated_where_erb_fails(name: str, exam_options: Options) -> None:
    assert "erb_error" in CASES[name]
    (statement,) = _ours(CASES[name]["event"], exam_options)
    assert statement["object"]["definition"]["type"] in {t for _, t in EXAMS.values()}


@pytest.mark.parametrize(
    "name", ["timed_submitted_event_tracking_layout", "timed_submitted_event_string"]
)
def test_every_layout_gives_the_same_statement(name: str, exam_options: Options) -> None:
    expected = _ours(_raw(SUBMITTED), exam_options)
    assert _ours(CASES[name]["event"], exam_options) == expected


def test_without_exam_name_nothing_is_named(exam_options: Options) -> None:
    (statement,) = _ours(CASES["timed_submitted_without_exam_name"]["event"], exam_options)
    assert "name" not in statement["object"]["definition"]
    (attempt,) = statement["context"]["contextActivities"]["grouping"]
    assert "name" not in attempt["definition"]
    assert attempt["id"] == ATTEMPT_IRI


def test_without_course_the_attempt_stays(exam_options: Options) -> None:
    (statement,) = _ours(CASES["proctored_submitted_without_course"]["event"], exam_options)
    activities = statement["context"]["contextActivities"]
    assert list(activities) == ["grouping"]
    assert activities["grouping"][0]["definition"]["extensions"] == {
        v.EXT_ATTEMPT_STARTED: "2023-09-08T15:58:04.838598+00:00",
        v.EXT_ATTEMPT_COMPLETED: "2023-09-08T16:20:53.577698+00:00",
        v.EXT_DURATION: 1368.7657,
        v.EXT_ATTEMPT_ID: 1,
    }


@pytest.mark.parametrize("name", sorted(EXAMS))
def test_verb_and_type_per_event(name: str, options: Options) -> None:
    verb, exam_type = EXAMS[name]
    (statement,) = _ours(_raw(name), options)
    assert statement["verb"] == verb.value
    assert statement["object"]["definition"]["type"] == exam_type
    assert statement["object"]["definition"]["extensions"] == {v.EXT_TIME_LIMIT: 60}
    (attempt,) = statement["context"]["contextActivities"]["grouping"]
    assert attempt["id"] == ATTEMPT_IRI
    assert attempt["definition"]["type"] == v.ATTEMPT


def test_attempt_code_is_percent_encoded(options: Options) -> None:
    event = _raw(SUBMITTED)
    event["event"]["attempt_code"] = "a/b c"
    (statement,) = _ours(event, options)
    assert statement["context"]["contextActivities"]["grouping"][0]["id"] == (
        f"{LMS}/exam-attempt/a%2Fb%20c"
    )


@pytest.mark.parametrize(
    "content_id",
    [
        "block-v1:edX+DemoX+Demo_Course+type@sequential+block@5b4b",
        "ccx-block-v1:edX+DemoX+Demo_Course+ccx@2+type@sequential+block@5b4b",
        "i4x://edX/DemoX/sequential/5b4b",
        "http://example.com/exams/1",
    ],
)
def test_usage_keys_and_iris_are_the_object_id(content_id: str, options: Options) -> None:
    event = _raw(SUBMITTED)
    event["event"]["exam_content_id"] = content_id
    (statement,) = _ours(event, options)
    assert statement["object"]["id"] == content_id


@pytest.mark.parametrize(
    "content_id", ["", None, 7, "Final exam", "no-scheme", "x://a:b", "block-v1:a b", "a:%zz"]
)
def test_content_id_that_is_no_iri_is_refused(content_id: Any, options: Options) -> None:
    event = _raw(SUBMITTED)
    event["event"]["exam_content_id"] = content_id
    with pytest.raises(TranslationError, match="exam_content_id"):
        translate(normalise(event), "xapi", options)


@pytest.mark.parametrize("data", ["not an object", ["a", "list"]])
def test_payload_that_is_not_an_object_is_refused(data: Any, options: Options) -> None:
    event = _raw(SUBMITTED)
    event["event"] = data
    with pytest.raises(TranslationError):
        translate(normalise(event), "xapi", options)


def test_no_caliper_translation(options: Options) -> None:
    with pytest.raises(TranslationError):
        translate(erb_event(SUBMITTED), "caliper", options)
