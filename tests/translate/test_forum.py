"""Forum events: ERB's output on edge cases (fixtures/forum, made by running ERB), refusals, and
cases where ERB fails but a valid statement can be made."""

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

CASES_DIR = Path(__file__).parent / "fixtures" / "forum"
CASES: dict[str, dict[str, Any]] = {
    path.stem: json.loads(path.read_text()) for path in sorted(CASES_DIR.glob("*.json"))
}
LMS = "http://localhost:18000"
NAMES = {
    "edx.forum.thread.created": v.POSTED,
    "edx.forum.response.created": v.POSTED,
    "edx.forum.comment.created": v.POSTED,
    "edx.forum.thread.edited": v.EDITED,
    "edx.forum.response.edited": v.EDITED,
    "edx.forum.comment.edited": v.EDITED,
    "edx.forum.thread.deleted": v.DELETED,
    "edx.forum.response.deleted": v.DELETED,
    "edx.forum.comment.deleted": v.DELETED,
    "edx.forum.thread.reported": v.REPORTED,
    "edx.forum.response.reported": v.REPORTED,
    "edx.forum.comment.reported": v.REPORTED,
    "edx.forum.thread.unreported": v.UNREPORTED,
    "edx.forum.response.unreported": v.UNREPORTED,
    "edx.forum.comment.unreported": v.UNREPORTED,
    "edx.forum.thread.voted": v.VOTED,
    "edx.forum.response.voted": v.VOTED,
    "edx.forum.thread.viewed": v.VIEWED,
}


def _cases(expect: str) -> list[str]:
    return [name for name, case in CASES.items() if case["expect"] == expect]


@pytest.fixture(scope="module")
def forum_options() -> Options:
    """ERB's setup, where the LMS names every course (CCX ones included) "Demonstration Course"."""
    courses = {case["event"]["context"].get("course_id") for case in CASES.values()} | {
        "course-v1:testX+XAPI101+2019_T2",
        "course-v1:TestX+XP101+2023_T1",
    }
    names = {course: "Demonstration Course" for course in courses if course}
    return dataclasses.replace(erb_options(), courses=CourseCatalogue(names))


def _ours(event: dict[str, Any], options: Options) -> list[dict[str, Any]]:
    statements = translate(normalise(event), "xapi", options)
    for statement in statements:
        assert_valid_xapi(statement)
    return statements


def _raw(name: str) -> dict[str, Any]:
    """A fresh copy of one of ERB's golden events, as JSON, to change."""
    raw: dict[str, Any] = json.loads(json.dumps(erb_event(name).raw))
    return raw


def test_fixtures_cover_every_expectation() -> None:
    assert {case["expect"] for case in CASES.values()} == {"same-as-erb", "refused", "translated"}


@pytest.mark.parametrize("name", _cases("same-as-erb"))
def test_same_as_erb(name: str, forum_options: Options) -> None:
    case = CASES[name]
    ours = [_xapi_comparable(s) for s in _ours(case["event"], forum_options)]
    theirs = [_xapi_comparable(s) for s in case["erb"]]
    differences = case.get("differences", {})
    theirs = [_apply(s, differences.get(str(i), {})) for i, s in enumerate(theirs)]
    assert ours == theirs


@pytest.mark.parametrize("name", _cases("refused"))
def test_refused(name: str, forum_options: Options) -> None:
    with pytest.raises(TranslationError):
        translate(normalise(CASES[name]["event"]), "xapi", forum_options)


@pytest.mark.parametrize("name", _cases("translated"))
def test_translated_where_erb_fails(name: str, forum_options: Options) -> None:
    assert "erb_error" in CASES[name]
    (statement,) = _ours(CASES[name]["event"], forum_options)
    assert statement["object"]["definition"]["type"] == v.DISCUSSION


def test_numeric_post_id(forum_options: Options) -> None:
    (statement,) = _ours(CASES["thread_created_numeric_id"]["event"], forum_options)
    assert statement["object"]["id"] == f"{LMS}/api/discussion/v1/threads/12"


def test_comment_without_course_keeps_its_thread(forum_options: Options) -> None:
    (statement,) = _ours(CASES["comment_created_without_course"]["event"], forum_options)
    assert statement["context"]["contextActivities"] == {
        "grouping": [
            {
                "objectType": "Activity",
                "id": f"{LMS}/api/discussion/v1/threads/64d1df0887e82a002b35a6f7",
                "definition": {"type": v.DISCUSSION},
            }
        ]
    }


@pytest.mark.parametrize("name", sorted(NAMES))
def test_verb_and_type_per_event(name: str, options: Options) -> None:
    (statement,) = _ours(_raw(name), options)
    assert statement["verb"] == NAMES[name].value
    assert statement["object"]["definition"]["type"] == v.DISCUSSION
    assert statement["object"]["id"].startswith(f"{LMS}/api/discussion/v1/")


def test_only_creating_and_voting_record_a_type(options: Options) -> None:
    typed = {
        name
        for name in NAMES
        if v.EXT_MODE in _ours(_raw(name), options)[0]["context"]["extensions"]
    }
    assert typed == {
        "edx.forum.thread.created",
        "edx.forum.thread.voted",
        "edx.forum.response.voted",
    }


def test_post_id_is_removed_from_the_path_as_a_segment_only(options: Options) -> None:
    # ERB removes every occurrence of the id from the path (a short id mangles "v1"); we remove
    # the path segment that is the id.
    event = _raw("edx.forum.thread.deleted")
    event["data"]["id"] = "1"
    event["context"]["path"] = "/api/discussion/v1/threads/1/"
    (statement,) = _ours(event, options)
    assert statement["object"]["id"] == f"{LMS}/api/discussion/v1/threads/1"


def test_odd_characters_make_a_valid_iri(options: Options) -> None:
    event = _raw("edx.forum.thread.edited")
    event["data"]["id"] = "a b%c\u00e9"
    event["context"]["path"] = "api/discussion/v1/threads/a b%c\u00e9"
    (statement,) = _ours(event, options)
    assert statement["object"]["id"] == f"{LMS}/api/discussion/v1/threads/a%20b%25c%C3%A9"


@pytest.mark.parametrize("data", ["not an object", ["a", "list"], None])
def test_payload_that_is_not_an_object_is_refused(data: Any, options: Options) -> None:
    event = _raw("edx.forum.thread.created")
    event["data"] = data
    with pytest.raises(TranslationError):
        translate(normalise(event), "xapi", options)


@pytest.mark.parametrize("post_id", [None, "", True, {"id": 1}, []])
def test_post_id_of_the_wrong_kind_is_refused(post_id: Any, options: Options) -> None:
    event = _raw("edx.forum.thread.created")
    event["data"]["id"] = post_id
    with pytest.raises(TranslationError, match="post id"):
        translate(normalise(event), "xapi", options)


@pytest.mark.parametrize("path", [None, "", 42])
def test_path_of_the_wrong_kind_is_refused(path: Any, options: Options) -> None:
    event = _raw("edx.forum.thread.created")
    event["context"]["path"] = path
    with pytest.raises(TranslationError, match="path"):
        translate(normalise(event), "xapi", options)


def test_no_caliper_translation(options: Options) -> None:
    with pytest.raises(TranslationError):
        translate(erb_event("edx.forum.thread.created"), "caliper", options)
