"""Block completion, xAPI: ERB's output on edge cases (fixtures/completion, made by running ERB),
the completion/progress rule, refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest

from event_router.events import normalise
from event_router.translate import TranslationError, translate
from event_router.translate.xapi import vocabulary as v
from tests.conftest import erb_event, erb_options
from tests.support.translate import case_params, check_case, load_cases, ours

CASES = load_cases("completion")
NAME = "edx.completion.block_completion.changed"


def _raw() -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(json.dumps(erb_event(NAME).raw))
    return raw


def test_fixtures_cover_every_expectation() -> None:
    assert {case["xapi"]["expect"] for case in CASES.values()} == {"same-as-erb", "refused"}


@pytest.mark.parametrize(("key", "protocol"), case_params(CASES))
def test_edge_case(key: str, protocol: str) -> None:
    check_case(CASES, key, protocol)


@pytest.mark.parametrize(
    ("completion", "completed", "progress"),
    [(1.0, True, 100.0), (1, True, 100), (0.5, False, 50.0), (0, False, 0), (0.999, False, 99.9)],
)
def test_completed_only_at_one(completion: float, completed: bool, progress: float) -> None:
    raw = _raw()
    raw["data"]["completion"] = completion
    (statement,) = ours(raw, "xapi")
    assert statement["verb"] == v.PROGRESSED.value
    assert statement["result"]["completion"] is completed
    assert statement["result"]["extensions"][v.EXT_PROGRESS] == pytest.approx(progress)


def test_timestamp_is_written_back_as_erb_does() -> None:
    # ERB hashes the timestamp text into the id but writes the parsed time back (Z → +00:00).
    (statement,) = ours(_raw(), "xapi")
    assert statement["timestamp"] == "2023-08-22T20:16:25.500832+00:00"


@pytest.mark.parametrize("value", ["1.0", True, [1]])
def test_completion_that_is_not_a_number_is_refused(value: Any) -> None:
    raw = _raw()
    raw["data"]["completion"] = value
    with pytest.raises(TranslationError, match="completion"):
        translate(normalise(raw), "xapi", erb_options())


def test_no_learner_is_refused() -> None:
    raw = _raw()
    for holder in (raw["context"], raw["data"]):
        holder.pop("user_id", None)
        holder.pop("username", None)
    with pytest.raises(TranslationError, match="learner"):
        translate(normalise(raw), "xapi", erb_options())


@pytest.mark.parametrize("data", ["not an object", [1, 2], None])
def test_payload_that_is_not_an_object_is_refused(data: Any) -> None:
    raw = _raw()
    raw["data"] = data
    with pytest.raises(TranslationError):
        translate(normalise(raw), "xapi", erb_options())


def test_no_caliper_translation() -> None:
    with pytest.raises(TranslationError):
        translate(erb_event(NAME), "caliper", erb_options())


def test_a_completion_json_cannot_carry_is_refused_not_raised() -> None:
    """2**62 * 100 is beyond what JSON numbers carry here (orjson: 64 bits). Found by the fuzz
    suite: it used to stop the tracking-log source and crash `transform`."""
    from event_router.translate import translate_bytes
    from event_router.translate.workers import prepare_lines

    raw = _raw()
    key = "data" if "data" in raw else "event"
    raw[key] = {**raw[key], "completion": 2**62} if isinstance(raw[key], dict) else raw[key]
    event = normalise(raw)
    with pytest.raises(TranslationError, match="cannot be written as JSON"):
        translate_bytes(event, "xapi", erb_options())
    prepared = prepare_lines(
        {"anonymous": erb_options()}, [json.dumps(raw).encode()], (("xapi", "anonymous"),)
    )
    assert prepared.ahead is not None
    (made,) = prepared.ahead
    assert "cannot be written as JSON" in str(made["xapi", "anonymous"])
