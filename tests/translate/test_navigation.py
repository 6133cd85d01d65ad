"""Navigation events: ERB's output on edge cases (fixtures/navigation, made by running ERB on
each variant), refusals, and where ERB fails or is invalid but a valid translation can be made."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import rfc3987
from hypothesis import given
from hypothesis import strategies as st

from event_router.events import normalise
from event_router.routing.catalogue import CourseCatalogue
from event_router.translate import Options, TranslationError, translate
from event_router.translate.iri import absolute_url, iri_safe
from event_router.translate.xapi import vocabulary as v
from tests.conftest import DEMO_COURSE, erb_event, erb_options
from tests.support.translate import _apply, _caliper_comparable, _xapi_comparable
from tests.validation import assert_valid_caliper_event, assert_valid_xapi

CASES_DIR = Path(__file__).parent / "fixtures" / "navigation"
CASES: dict[str, dict[str, Any]] = {
    path.stem: json.loads(path.read_text()) for path in sorted(CASES_DIR.glob("*.json"))
}
LMS = "http://localhost:18000"
CCX = "ccx-v1:edX+DemoX+Demo_Course+ccx@2"
PROGRESS = f"{LMS}/courses/course-v1:edX+DemoX+Demo_Course/progress"
OUTLINE_TARGET = (
    f"{LMS}/courses/course-v1:edX+DemoX+Demo_Course/jump_to/block-v1:edX+DemoX+Demo_Course"
    "+type@sequential+block@48ecb924d7fe4b66a230137626bfa93e"
)
SEQUENCE = (
    f"{LMS}/xblock/block-v1:edX+DemoX+Demo_Course+type@sequential"
    "+block@19a30717eff543078a5d94ae9d6c18a5"
)
PROTOCOLS = ("xapi", "caliper")
COMPARABLE = {"xapi": _xapi_comparable, "caliper": _caliper_comparable}
VALID = {"xapi": assert_valid_xapi, "caliper": assert_valid_caliper_event}

# Where ERB's output is invalid, what we send instead (docs/compatibility.md, "Navigation").
_WEB_PAGE = {"0": {"object/type": "WebPage"}}  # ERB: "Webpage", no Caliper term
DIFFERENCES: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    **{
        (name, "caliper"): _WEB_PAGE
        for name in CASES
        if name.startswith("edx.ui.lms.link_clicked") and CASES[name]["caliper"] is not None
    },
    # A relative URL is no IRI: resolved against the LMS.
    ("edx.ui.lms.link_clicked.relative_url", "xapi"): {"0": {"object/id": PROGRESS}},
    ("edx.ui.lms.link_clicked.relative_url", "caliper"): {
        "0": {"object/type": "WebPage", "object/id": PROGRESS}
    },
}
# Where ERB fails but the event holds what a valid translation needs (docs/compatibility.md).
TRANSLATED_WHERE_ERB_FAILS = {
    ("edx.ui.lms.sequence.outline.selected", "caliper"),
    ("edx.ui.lms.outline.selected.no_target_name", "xapi"),
}


def _expectation(name: str, protocol: str) -> str:
    """same (ERB translates it), translated (ERB fails, we do not) or refused (both refuse)."""
    if CASES[name][protocol] is not None:
        return "same"
    return "translated" if (name, protocol) in TRANSLATED_WHERE_ERB_FAILS else "refused"


def _pairs(expectation: str) -> list[tuple[str, str]]:
    return [
        (name, protocol)
        for name in sorted(CASES)
        for protocol in PROTOCOLS
        if _expectation(name, protocol) == expectation
    ]


@pytest.fixture(scope="module")
def nav_options() -> Options:
    """ERB's setup, where the LMS names every course (CCX ones too) "Demonstration Course"."""
    names = {DEMO_COURSE: "Demonstration Course", CCX: "Demonstration Course"}
    return dataclasses.replace(erb_options(), courses=CourseCatalogue(names))


def _ours(event: dict[str, Any], protocol: str, options: Options) -> list[dict[str, Any]]:
    out = translate(normalise(event), protocol, options)
    for item in out:
        VALID[protocol](item)
    return out


def _raw(name: str) -> dict[str, Any]:
    """A fresh copy of one of ERB's golden events, to change."""
    raw: dict[str, Any] = json.loads(json.dumps(erb_event(name).raw))
    return raw


def test_expectations_name_real_cases() -> None:
    assert CASES
    assert set(_pairs("translated")) >= TRANSLATED_WHERE_ERB_FAILS
    assert {name for name, _ in DIFFERENCES} <= set(CASES)


@pytest.mark.parametrize(("name", "protocol"), _pairs("same"))
def test_same_as_erb(name: str, protocol: str, nav_options: Options) -> None:
    case = CASES[name]
    comparable = COMPARABLE[protocol]
    ours = [comparable(item) for item in _ours(case["event"], protocol, nav_options)]
    theirs = [comparable(item) for item in case[protocol]]
    differences = DIFFERENCES.get((name, protocol), {})
    theirs = [_apply(item, differences.get(str(i), {})) for i, item in enumerate(theirs)]
    assert ours == theirs


@pytest.mark.parametrize(("name", "protocol"), _pairs("refused"))
def test_refused_like_erb(name: str, protocol: str, nav_options: Options) -> None:
    with pytest.raises(TranslationError):
        translate(normalise(CASES[name]["event"]), protocol, nav_options)


# --- what the translations hold where ERB fails --------------------------------------------------


def test_sequence_outline_selected_in_caliper(nav_options: Options) -> None:
    # ERB reads a sequence id for this name and so fails on the outline payload.
    event = CASES["edx.ui.lms.sequence.outline.selected"]["event"]
    assert "caliper_error" in CASES["edx.ui.lms.sequence.outline.selected"]
    (caliper,) = _ours(event, "caliper", nav_options)
    assert caliper["object"] == {
        "id": OUTLINE_TARGET,
        "type": "DigitalResource",
        "name": "Lesson 3 - Be Social",
        "extensions": {"isPartOf": {"id": f"{LMS}/course/{DEMO_COURSE}", "type": "CourseOffering"}},
    }
    # ... and is the same as for edx.ui.lms.outline.selected
    (plain,) = _ours(_raw("edx.ui.lms.outline.selected"), "caliper", nav_options)
    assert {**plain, "id": None} == {**caliper, "id": None}


def test_sequence_outline_selected_with_a_sequence_id_is_erbs(nav_options: Options) -> None:
    case = CASES["edx.ui.lms.sequence.outline.selected.sequence_payload"]
    (caliper,) = _ours(case["event"], "caliper", nav_options)
    assert caliper["object"]["id"] == SEQUENCE
    assert caliper["object"]["type"] == "DigitalResource"
    assert _caliper_comparable(caliper) == _caliper_comparable(case["caliper"][0])


def test_outline_without_a_name(nav_options: Options) -> None:
    case = CASES["edx.ui.lms.outline.selected.no_target_name"]
    assert "xapi_error" in case
    (statement,) = _ours(case["event"], "xapi", nav_options)
    assert statement["object"] == {
        "objectType": "Activity",
        "id": OUTLINE_TARGET,
        "definition": {"type": v.MODULE},
    }
    assert statement["verb"] == v.NAVIGATED.value


# --- every name, both protocols ------------------------------------------------------------------

KINDS = {
    "edx.ui.lms.link_clicked": (v.LINK, "WebPage"),
    "edx.ui.lms.outline.selected": (v.MODULE, "DigitalResource"),
    "edx.ui.lms.sequence.outline.selected": (v.MODULE, "DigitalResource"),
    "edx.ui.lms.sequence.next_selected": (v.RESOURCE, "DigitalResourceCollection"),
    "edx.ui.lms.sequence.previous_selected": (v.RESOURCE, "DigitalResourceCollection"),
    "edx.ui.lms.sequence.tab_selected": (v.RESOURCE, "DigitalResourceCollection"),
}


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_name_in_both_protocols(name: str, options: Options) -> None:
    base = "edx.ui.lms.outline.selected" if "outline" in name else name
    event = _raw(base)
    event["name"] = name
    activity_type, caliper_type = KINDS[name]
    (statement,) = _ours(event, "xapi", options)
    assert statement["verb"] == v.NAVIGATED.value
    assert statement["object"]["definition"]["type"] == activity_type
    (caliper,) = _ours(event, "caliper", options)
    assert (caliper["type"], caliper["action"]) == ("NavigationEvent", "NavigatedTo")
    assert caliper["object"]["type"] == caliper_type


@pytest.mark.parametrize(
    ("name", "ending"),
    [
        ("edx.ui.lms.sequence.next_selected", "next unit"),
        ("edx.ui.lms.sequence.previous_selected", "previous unit"),
        ("edx.ui.lms.sequence.tab_selected", 8),
    ],
)
def test_sequence_positions(name: str, ending: Any, options: Options) -> None:
    (statement,) = _ours(_raw(name), "xapi", options)
    extensions = statement["context"]["extensions"]
    assert extensions[v.EXT_ENDING_POSITION] == ending
    assert statement["object"]["id"] == SEQUENCE
    assert statement["object"]["definition"]["extensions"] == {v.EXT_TOTAL_ITEMS: 10}
    (caliper,) = _ours(_raw(name), "caliper", options)
    assert caliper["object"]["extensions"]["target"] == ending


def test_tab_zero_is_kept(nav_options: Options) -> None:
    (statement,) = _ours(
        CASES["edx.ui.lms.sequence.next_selected.zero_tabs"]["event"], "xapi", nav_options
    )
    assert statement["context"]["extensions"][v.EXT_STARTING_POSITION] == 0


def test_no_course_means_no_parent(nav_options: Options) -> None:
    (statement,) = _ours(CASES["edx.ui.lms.link_clicked.no_course"]["event"], "xapi", nav_options)
    assert "contextActivities" not in statement["context"]
    (caliper,) = _ours(CASES["edx.ui.lms.link_clicked.no_course"]["event"], "caliper", nav_options)
    assert "extensions" not in caliper["object"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a?b=c#d", "https://example.org/a?b=c#d"),
        ("mailto:someone@example.org", "mailto:someone@example.org"),
        ("/courses/x/progress", f"{LMS}/courses/x/progress"),
        ("courses/x", f"{LMS}/courses/x"),
        ("#top", f"{LMS}/#top"),
        ("http://example.org/a b|c", "http://example.org/a%20b%7Cc"),
        ("http://example.org/ünï?q=☃#x#y", "http://example.org/ünï?q=☃#x%23y"),
        ("http://example.org/100%", "http://example.org/100%25"),
    ],
)
def test_link_targets_are_absolute(url: str, expected: str, options: Options) -> None:
    event = _raw("edx.ui.lms.link_clicked")
    event["data"]["target_url"] = url
    (statement,) = _ours(event, "xapi", options)
    assert statement["object"]["id"] == expected
    (caliper,) = _ours(event, "caliper", options)
    assert caliper["object"]["id"] == expected


@given(st.text())
def test_any_target_becomes_an_iri(text: str) -> None:
    options = erb_options(erb_event("edx.ui.lms.link_clicked"))
    rfc3987.parse(absolute_url(text, options), rule="IRI")
    rfc3987.parse(iri_safe(f"http://example.org/{text}"), rule="IRI")


def test_translation_is_deterministic(options: Options) -> None:
    for protocol in PROTOCOLS:
        first = translate(erb_event("edx.ui.lms.sequence.tab_selected"), protocol, options)
        assert translate(erb_event("edx.ui.lms.sequence.tab_selected"), protocol, options) == first


# --- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("name", sorted(KINDS))
def test_missing_learner_is_refused(name: str, protocol: str, options: Options) -> None:
    event = _raw("edx.ui.lms.outline.selected" if "outline" in name else name)
    event["name"] = name
    for key in ("user_id", "username"):
        event["context"].pop(key, None)
    with pytest.raises(TranslationError, match="learner"):
        translate(normalise(event), protocol, options)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("data", ["not an object", ["a", "list"], 7])
@pytest.mark.parametrize("name", ["edx.ui.lms.link_clicked", "edx.ui.lms.sequence.next_selected"])
def test_payload_that_is_not_an_object_is_refused(
    name: str, data: Any, protocol: str, options: Options
) -> None:
    event = _raw(name)
    event["data"] = data
    with pytest.raises(TranslationError):
        translate(normalise(event), protocol, options)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("url", [None, "", "  ", 42, ["http://x"]])
def test_target_url_of_the_wrong_kind_is_refused(url: Any, protocol: str, options: Options) -> None:
    event = _raw("edx.ui.lms.link_clicked")
    event["data"]["target_url"] = url
    with pytest.raises(TranslationError, match="target_url"):
        translate(normalise(event), protocol, options)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_sequence_without_id_is_refused(protocol: str, options: Options) -> None:
    event = _raw("edx.ui.lms.sequence.tab_selected")
    event["data"]["id"] = ""
    with pytest.raises(TranslationError, match="sequence id"):
        translate(normalise(event), protocol, options)
    event["data"]["id"] = ["block-v1:edX+DemoX+Demo_Course+type@sequential+block@1"]
    with pytest.raises(TranslationError, match="sequence id"):
        translate(normalise(event), protocol, options)
