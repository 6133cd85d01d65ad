"""Helpers of the translation tests: ERB's expected output made comparable with ours (the
differences we keep on purpose applied), and the edge cases of a family read from its fixtures."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from event_router.events import TrackingEvent, normalise
from event_router.routing.catalogue import CourseCatalogue
from event_router.translate import Options, TranslationError, translate
from event_router.translate.payload import prune
from tests.conftest import erb_options
from tests.validation import assert_valid_caliper_event, assert_valid_xapi

TRANSFORMER_VERSION = "https://w3id.org/xapi/openedx/extension/transformer-version"


def _xapi_comparable(statement: dict[str, Any]) -> dict[str, Any]:
    # ERB leaves some empty objects (`"extensions": {}`); xAPI forbids empty values, we omit them.
    statement = prune(json.loads(json.dumps(statement)))
    statement.pop("version", None)  # ERB sends 1.0.3, which producers must not
    statement["context"]["extensions"].pop(TRANSFORMER_VERSION)
    return statement


def _caliper_comparable(event: dict[str, Any]) -> dict[str, Any]:
    event = prune(json.loads(json.dumps(event)))
    event.pop("id")  # ERB's are random
    event["extensions"].pop("transformerVersion")
    return event


def _apply(value: dict[str, Any], differences: dict[str, Any]) -> dict[str, Any]:
    for path, ours in differences.items():
        *parents, last = path.split("/")
        node = value
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if ours is None:
            node.pop(last, None)
        else:
            node[last] = ours
    return value


FIXTURES = Path(__file__).resolve().parents[1] / "translate" / "fixtures"


def load_cases(family: str) -> dict[str, dict[str, Any]]:
    """`<family>/<case>` → the case recorded by fixtures/problem/make.py."""
    return {
        f"{family}/{path.stem}": json.loads(path.read_text())
        for path in sorted((FIXTURES / family).glob("*.json"))
    }


def case_params(cases: dict[str, dict[str, Any]]) -> list[Any]:
    return [
        pytest.param(key, protocol, id=f"{key}-{protocol}")
        for key, case in cases.items()
        for protocol in ("xapi", "caliper")
        if protocol in case
    ]


def case_options(event: TrackingEvent) -> Options:
    """ERB's test setup for this event: its learner is 32e08e30-…, its course (CCX ones too) is
    "Demonstration Course", as the oracle's LMS stand-in says of every course."""
    options = erb_options(event)
    if event.course_id is None:
        return options
    courses = CourseCatalogue({event.course_id: "Demonstration Course"})
    return dataclasses.replace(options, courses=courses)


def ours(raw: dict[str, Any], protocol: str) -> list[dict[str, Any]]:
    """Translate and check that everything produced is valid."""
    event = normalise(copy.deepcopy(raw))
    outputs = translate(event, protocol, case_options(event))
    for output in outputs:
        if protocol == "xapi":
            assert_valid_xapi(output)
        else:
            assert_valid_caliper_event(output)
    return outputs


def check_case(cases: dict[str, dict[str, Any]], key: str, protocol: str) -> None:
    case = cases[key]
    entry = case[protocol]
    expect = entry["expect"]
    if expect == "refused":
        with pytest.raises(TranslationError):
            ours(case["event"], protocol)
        return
    outputs = ours(case["event"], protocol)
    if expect == "same-as-erb":
        comparable = _xapi_comparable if protocol == "xapi" else _caliper_comparable
        mine = [comparable(o) for o in outputs]
        # ERB's Caliper ids are random and not recorded: any id will do for the comparison.
        theirs = [comparable({"id": "-", **o}) for o in entry["erb"]]
        differences = entry.get("differences", {})
        theirs = [_apply(o, differences.get(str(i), {})) for i, o in enumerate(theirs)]
        assert mine == theirs
        return
    assert expect == "translated"
    # ERB failed, or (Caliper) misread the event's layout: ours equals the reference case's.
    assert "erb_error" in entry or "same_as" in case
    if "same_as" in case:
        family = key.split("/")[0]
        reference = cases.get(case["same_as"]) or load_cases(family)[case["same_as"]]
        assert outputs == ours(reference["event"], protocol)
