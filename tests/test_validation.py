"""The validators in tests/validation.py have teeth: each rejects known-bad input, accepts good
input, and says where the problem is."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from ralph.models.xapi.base.statements import BaseXapiStatement

from tests.conftest import ERB
from tests.validation import (
    _tincan_validator,
    assert_valid_caliper_envelope,
    assert_valid_caliper_event,
    assert_valid_xapi,
)

Json = dict[str, Any]
Change = Callable[[Json], Any]

STATEMENT: Json = {
    "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
    "actor": {
        "objectType": "Agent",
        "account": {"homePage": "http://localhost:18000", "name": "32e08e30-f8ae-4ce2-94a8"},
    },
    "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted", "display": {"en": "attempted"}},
    "object": {
        "objectType": "Activity",
        "id": "http://localhost:18000/xblock/block-v1:edX+DemoX+Demo_Course+type@problem+block@1",
        "definition": {
            "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
            "name": {"en": "Problem 1"},
            "interactionType": "choice",
        },
    },
    "result": {
        "score": {"scaled": 0.5, "raw": 1, "min": 0, "max": 2},
        "success": False,
        "response": "choice_1",
        "duration": "PT1M3.5S",
        "extensions": {"https://w3id.org/xapi/acrossx/extensions/type": "x"},
    },
    "context": {
        "contextActivities": {
            "parent": [
                {
                    "objectType": "Activity",
                    "id": "http://localhost:18000/course/course-v1:edX+DemoX+Demo_Course",
                    "definition": {"type": "http://adlnet.gov/expapi/activities/course"},
                }
            ]
        },
        "extensions": {"https://w3id.org/xapi/openedx/extensions/session-id": "abc"},
    },
    "timestamp": "2023-07-10T09:23:10.354202+00:00",
}

EVENT: Json = {
    "@context": "http://purl.imsglobal.org/ctx/caliper/v1p2",
    "id": "urn:uuid:4c53b337-b72f-4a36-b0ea-17fb335e18ab",
    "type": "MediaEvent",
    "action": "Resumed",
    "actor": {"id": "http://localhost:18000/user/32e08e30", "type": "Person"},
    "object": {
        "id": "http://localhost:18000/xblock/block-v1:edX+DemoX+Demo_Course+type@video+block@0b",
        "type": "VideoObject",
        "duration": "PT3M15S",
        "extensions": {
            "isPartOf": {
                "id": "http://localhost:18000/course/course-v1:edX+DemoX+Demo_Course",
                "type": "CourseOffering",
            }
        },
    },
    "target": {"id": "_:MediaLocation", "type": "MediaLocation", "currentTime": "PT0.032788S"},
    "eventTime": "2020-07-15T06:52:55.057Z",
    "session": {"id": "http://localhost:18000/sessions/993110e9", "type": "Session"},
    "extensions": {"transformerVersion": "event-router@0.1.0"},
}

ENVELOPE: Json = {
    "sensor": "http://localhost:18000/sensor",
    "sendTime": "2020-07-15T06:52:56.000Z",
    "dataVersion": "http://purl.imsglobal.org/ctx/caliper/v1p2",
    "data": [EVENT],
}


def changed(value: Json, change: Change) -> Json:
    copied = copy.deepcopy(value)
    change(copied)
    return copied


def _set(path: str, new: Any) -> Change:
    """Set (or, with `DROP`, remove) the value at a dotted path; digits index lists."""
    *parents, last = path.split(".")

    def change(value: Json) -> None:
        node: Any = value
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if new is DROP:
            del node[last]
        else:
            node[last] = new

    return change


DROP = object()


# --- xAPI --------------------------------------------------------------------------------------


def test_good_statement_passes() -> None:
    assert_valid_xapi(STATEMENT)


@pytest.mark.parametrize(
    "name",
    sorted(p.stem for p in (ERB / "expected-xapi").glob("*.json") if "special_exam" in p.stem),
)
def test_erb_exam_statements_fail_on_their_attempt_id(name: str) -> None:
    (statement,) = [json.loads((ERB / "expected-xapi" / f"{name}.json").read_text())]
    statement.pop("version")
    with pytest.raises(AssertionError, match=r"grouping.*\[0\]\.id.*not a valid 'IRI'"):
        assert_valid_xapi(statement)


def test_minimal_statement_passes() -> None:
    assert_valid_xapi(
        {
            "actor": {"mbox": "mailto:learner@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"id": "http://example.com/activity"},
        }
    )


BAD_STATEMENTS: dict[str, tuple[Change, str]] = {
    "missing verb": (_set("verb", DROP), r"verb"),
    "two IFIs": (_set("actor.mbox", "mailto:learner@example.com"), r"actor"),
    "version 1.0.3 (producers send 1.0.0 or nothing)": (
        _set("version", "1.0.3"),
        r"\$\.version: a producer must send 1\.0\.0",
    ),
    "version 2.0.0": (_set("version", "2.0.0"), r"version"),
    "score raw above max": (_set("result.score.raw", 3), r"raw \(3\) is above max"),
    "score raw below min": (_set("result.score.raw", -1), r"raw \(-1\) is below min"),
    "score min equal to max (ERB's weighted_possible 0)": (
        lambda s: s["result"].update(score={"raw": 0, "min": 0, "max": 0}),
        r"min \(0\) must be less than max",
    ),
    "score scaled above 1": (_set("result.score.scaled", 1.5), r"scaled"),
    "score raw a string": (_set("result.score.raw", "1"), r"result\.score\.raw"),
    "response not a string": (_set("result.response", 1), r"result\.response"),
    "non-IRI extension key": (
        _set("context.extensions", {"session-id": "abc"}),
        r"context\.extensions",
    ),
    "null value": (_set("result.success", None), r"\$\.result\.success: null value"),
    "null extension value": (
        _set("result.extensions", {"https://w3id.org/xapi/acrossx/extensions/type": None}),
        r"null value",
    ),
    "empty object": (_set("result.extensions", {}), r"\$\.result\.extensions: empty value"),
    "empty string": (_set("object.definition.name", {"en": ""}), r"empty value"),
    "activity id not an IRI": (
        _set("object.id", "438AD672-DE2C-4F0B-8876-35444E7DD746"),
        r"object.*id.*not a valid 'IRI'",
    ),
    "activity id with a space": (_set("object.id", "http://lms/a b"), r"IRI"),
    "bad language tag": (_set("verb.display", {"english!": "attempted"}), r"verb\.display"),
    "statement id not a UUID": (_set("id", "123"), r"\$\.id"),
    "timestamp not ISO 8601": (_set("timestamp", "yesterday"), r"timestamp"),
    "unknown property": (_set("foo", 1), r"foo"),
    "objectType GroupActivity": (_set("object.objectType", "GroupActivity"), r"objectType"),
    "contextActivities not a list of activities": (
        _set("context.contextActivities.other", [{"id": "not an iri"}]),
        r"contextActivities",
    ),
    "statement not an object": (lambda s: None, r"a statement is a JSON object, not list"),
}


@pytest.mark.parametrize("name", sorted(BAD_STATEMENTS))
def test_bad_statement_is_rejected(name: str) -> None:
    change, where = BAD_STATEMENTS[name]
    statement: Any = changed(STATEMENT, change) if name != "statement not an object" else [1]
    with pytest.raises(AssertionError, match=where):
        assert_valid_xapi(statement)


def test_ralph_and_the_schema_accept_version_1_0_3_our_producer_rule_does_not() -> None:
    """Data 2.4.10: a producer sets no version or 1.0.0. Ralph (pattern ^1.0.[0-9]+$) and the
    tin-can schema accept 1.0.3, as an LRS must; only our own rule catches it."""
    statement = changed(STATEMENT, _set("version", "1.0.3"))
    BaseXapiStatement.model_validate(statement)
    assert not list(_tincan_validator().iter_errors(statement))
    assert_valid_xapi(changed(STATEMENT, _set("version", "1.0.0")))


@pytest.mark.parametrize(
    "change",
    [
        _set("verb", DROP),
        _set("object.id", "not an iri"),
        _set("result.score.scaled", 2),
        _set("context.extensions", {"key": 1}),
        _set("id", "123"),
        _set("object.definition.name", {"english!": "x"}),
    ],
)
def test_the_tin_can_schema_alone_has_teeth(change: Change) -> None:
    assert list(_tincan_validator().iter_errors(changed(STATEMENT, change)))


def test_astral_characters_are_matched_like_javascript_does() -> None:
    # The schema's IRI regex lists astral code points as UTF-16 surrogate pairs.
    assert_valid_xapi(changed(STATEMENT, _set("object.id", "http://lms/course/\U0001f600")))


# --- Caliper -----------------------------------------------------------------------------------


def test_good_event_and_envelope_pass() -> None:
    assert_valid_caliper_event(EVENT)
    assert_valid_caliper_envelope(ENVELOPE)


@pytest.mark.parametrize(
    "name",
    sorted(
        p.stem
        for p in (ERB / "expected-caliper").glob("*.json")
        if p.stem != "edx.ui.lms.link_clicked"  # ERB's `Webpage` (the term is `WebPage`)
    ),
)
def test_erb_caliper_events_pass(name: str) -> None:
    event = json.loads((ERB / "expected-caliper" / f"{name}.json").read_text())
    assert_valid_caliper_event(event)
    assert_valid_caliper_envelope({**ENVELOPE, "data": [event]})


def test_erb_link_clicked_fails_on_its_object_type() -> None:
    event = json.loads((ERB / "expected-caliper" / "edx.ui.lms.link_clicked.json").read_text())
    with pytest.raises(AssertionError, match=r"\$\.object\.type: 'Webpage' is not one of"):
        assert_valid_caliper_event(event)


BAD_EVENTS: dict[str, tuple[Change, str]] = {
    "action not a Caliper action": (_set("action", "Played"), r"\$\.action"),
    "action not allowed for the type": (
        _set("action", "Submitted"),
        r"\$\.action: a MediaEvent allows only",
    ),
    "unknown type": (_set("type", "VideoEvent"), r"\$\.type: unknown Caliper type"),
    "id not a urn:uuid": (
        _set("id", "4c53b337-b72f-4a36-b0ea-17fb335e18ab"),
        r"CaliperData.*\$\.id",
    ),
    "id urn but not uuid": (_set("id", "urn:uuid:123"), r"\$\.id"),
    "time without milliseconds": (_set("eventTime", "2020-07-15T06:52:55Z"), r"eventTime"),
    "time with microseconds": (_set("eventTime", "2020-07-15T06:52:55.057000Z"), r"eventTime"),
    "time with an offset": (_set("eventTime", "2020-07-15T06:52:55.057+00:00"), r"eventTime"),
    "time not a date": (_set("eventTime", "2020-02-30T06:52:55.057Z"), r"eventTime"),
    "missing eventTime": (_set("eventTime", DROP), r"eventTime"),
    "missing actor": (_set("actor", DROP), r"actor"),
    "wrong @context": (
        _set("@context", "http://purl.imsglobal.org/ctx/caliper/v1p1"),
        r"@context",
    ),
    "null value": (_set("session", None), r"\$\.session: null value"),
    "object of the wrong type": (_set("object.type", "Videoobject"), r"\$\.object\.type"),
    "extensions not an object": (_set("extensions", ["a"]), r"extensions"),
}


@pytest.mark.parametrize("name", sorted(BAD_EVENTS))
def test_bad_event_is_rejected(name: str) -> None:
    change, where = BAD_EVENTS[name]
    event = changed(EVENT, change)
    with pytest.raises(AssertionError, match=where):
        assert_valid_caliper_event(event)
    with pytest.raises(AssertionError, match=where.replace(r"\$", r"\$\.data\[0\]")):
        assert_valid_caliper_envelope({**ENVELOPE, "data": [event]})


BAD_ENVELOPES: dict[str, tuple[Change, str]] = {
    "data not an array": (_set("data", EVENT), r"\$\.data: .* is not of type 'array'"),
    "data empty": (_set("data", []), r"\$\.data"),
    "data of strings": (_set("data", ["urn:uuid:4c53b337-b72f-4a36-b0ea-17fb335e18ab"]), r"data"),
    "missing sensor": (_set("sensor", DROP), r"sensor"),
    "bad sendTime": (_set("sendTime", "2020-07-15 06:52:56"), r"sendTime"),
    "sendTime with an offset": (_set("sendTime", "2020-07-15T06:52:56.000+02:00"), r"sendTime"),
    "wrong dataVersion": (
        _set("dataVersion", "http://purl.imsglobal.org/ctx/caliper/v1p1"),
        "data",
    ),
    "custom property": (_set("extensions", {}), r"extensions"),
    "a bad event inside": (
        lambda e: e.update(data=[EVENT, changed(EVENT, _set("action", "Played"))]),
        r"\$\.data\[1\]\.action",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_ENVELOPES))
def test_bad_envelope_is_rejected(name: str) -> None:
    change, where = BAD_ENVELOPES[name]
    with pytest.raises(AssertionError, match=where):
        assert_valid_caliper_envelope(changed(ENVELOPE, change))


def test_envelope_may_mix_events_and_entities() -> None:
    entity = {"id": "http://localhost:18000/user/1", "type": "Person"}
    assert_valid_caliper_envelope({**ENVELOPE, "data": [EVENT, entity]})
    with pytest.raises(AssertionError, match=r"\$\.data\[1\]"):
        assert_valid_caliper_envelope({**ENVELOPE, "data": [EVENT, {**entity, "type": "Human"}]})


def test_messages_are_readable() -> None:
    with pytest.raises(AssertionError) as raised:
        assert_valid_xapi(changed(STATEMENT, _set("result.score.raw", "high")))
    first_line = str(raised.value).splitlines()[0]
    assert len(first_line) < 300
