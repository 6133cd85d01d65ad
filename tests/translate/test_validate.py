"""The fast validator (translate/validate.py): everything the translators produce passes it, and
broken variants of valid output are caught, each with a reason naming what is wrong. The strict
validators of the suite (tests/validation.py: Ralph, the tin-can schema, the IMS schemas) agree."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_router.events import normalise
from event_router.events.normalise import parse_line
from event_router.generate import generate
from event_router.translate import Options, TranslationError, registry, translate
from event_router.translate.validate import caliper_problems, is_iri, problems, xapi_problems
from tests.conftest import erb_event, erb_fixture_names
from tests.support.damage import PROPERTY_SETTINGS, _normalised, damaged_events
from tests.translate.fixtures.families.samples import SAMPLES
from tests.validation import assert_valid_caliper_event, assert_valid_xapi

STRICT = {"xapi": assert_valid_xapi, "caliper": assert_valid_caliper_event}


def _outputs(protocol: str, options: Options) -> list[dict[str, Any]]:
    events = [erb_event(name) for name in erb_fixture_names()]
    events += [normalise(raw) for raw in SAMPLES.values()]
    events += [parse_line(g.line()) for g in generate(600, users=20, courses=2, seed=3)]
    out: list[dict[str, Any]] = []
    for event in events:
        if event.name in registry(protocol):
            try:
                out += translate(event, protocol, options)
            except TranslationError:
                continue
    return out


@pytest.mark.parametrize("protocol", ["xapi", "caliper"])
def test_everything_the_translators_produce_passes(protocol: str, options: Options) -> None:
    outputs = _outputs(protocol, options)
    assert len(outputs) > 500
    for item in outputs:
        assert problems(protocol, item) == [], item


# --- broken variants --------------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    def mutate(item: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = item
        for part in parents:
            node = node.setdefault(part, {}) if isinstance(node, dict) else node[int(part)]
        node[last] = value

    return mutate


def _drop(key: str) -> Mutation:
    return lambda item: item.pop(key, None)


XAPI_BROKEN: dict[str, tuple[Mutation, str]] = {
    "no actor": (_drop("actor"), "$.actor: required"),
    "no verb": (_drop("verb"), "$.verb: required"),
    "no object": (_drop("object"), "$.object: required"),
    "id not a uuid": (_set("id", "1234"), "$.id"),
    "two IFIs": (_set("actor.mbox", "mailto:a@example.com"), "exactly one"),
    "no IFI": (lambda s: s.update(actor={"objectType": "Agent", "name": "x"}), "exactly one"),
    "mbox without mailto": (
        lambda s: s.update(actor={"mbox": "a@example.com"}),
        "$.actor.mbox",
    ),
    "verb id not an IRI": (_set("verb.id", "played"), "$.verb.id"),
    "object id not an IRI": (_set("object.id", "block v1"), "$.object.id"),
    "timestamp garbage": (_set("timestamp", "yesterday"), "ISO 8601"),
    "min not below max": (_set("result.score", {"min": 1, "max": 1, "raw": 1}), "min must"),
    "raw above max": (_set("result.score", {"min": 0, "max": 2, "raw": 3}), "above max"),
    "raw below min": (_set("result.score", {"min": 0, "max": 2, "raw": -1}), "below min"),
    "scaled above 1": (_set("result.score", {"scaled": 1.5}), "outside -1..1"),
    "success not boolean": (_set("result.success", "true"), "$.result.success"),
    "response not a string": (_set("result.response", 3), "$.result.response"),
    "bad duration": (_set("result.duration", "3 minutes"), "$.result.duration"),
    "null value": (_set("context.language", None), "null"),
    "registration not a uuid": (_set("context.registration", "http://x/y"), "registration"),
    "extension key not an IRI": (_set("context.extensions", {"speed": 1}), "not an IRI"),
    "unknown property": (_set("colour", "blue"), "$.colour"),
    "version 2.0": (_set("version", "2.0.0"), "$.version"),
    "bad context activity key": (
        _set("context.contextActivities", {"parents": [{"id": "http://x"}]}),
        "contextActivities.parents",
    ),
    "GroupActivity object": (_set("object.objectType", "GroupActivity"), "objectType"),
    "empty object": (_set("object.definition", {}), "empty object"),
}
CALIPER_BROKEN: dict[str, tuple[Mutation, str]] = {
    "no actor": (_drop("actor"), "$.actor: required"),
    "no action": (_drop("action"), "$.action: required"),
    "no eventTime": (_drop("eventTime"), "$.eventTime: required"),
    "no @context": (_drop("@context"), "$.@context: required"),
    "other context": (_set("@context", "http://purl.imsglobal.org/ctx/caliper/v1p1"), "@context"),
    "id not a urn:uuid": (_set("id", "1234"), "$.id"),
    "id a bare uuid": (_set("id", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"), "$.id"),
    "action of another type": (_set("action", "Graded"), "$.action"),
    "unknown type": (_set("type", "WatchEvent"), "$.type"),
    "eventTime with offset": (_set("eventTime", "2024-01-01T00:00:00.000+01:00"), "eventTime"),
    "eventTime without ms": (_set("eventTime", "2024-01-01T00:00:00Z"), "eventTime"),
    "null value": (_set("object.name", None), "null"),
    "object without id": (lambda e: e["object"].pop("id"), "$.object.id"),
    "object without type": (lambda e: e["object"].pop("type"), "$.object.type"),
    "actor id not an IRI": (_set("actor.id", "learner 42"), "$.actor.id"),
    "object an integer": (_set("object", 42), "$.object"),
}


# Caliper 1.2 says an entity described as an object has an `id` and a `type` (§4); the published
# JSON schemas do not require the type.
STRICTER_THAN_THE_SCHEMAS = {"object without type"}


def _valid(protocol: str, options: Options) -> dict[str, Any]:
    name = "play_video" if protocol == "caliper" else "problem_check(server)"
    (item,) = translate(erb_event(name), protocol, options)
    assert problems(protocol, item) == []
    return item


@pytest.mark.parametrize("case", sorted(XAPI_BROKEN))
def test_broken_statements_are_caught(case: str, options: Options) -> None:
    mutate, expected = XAPI_BROKEN[case]
    statement = copy.deepcopy(_valid("xapi", options))
    mutate(statement)
    reasons = xapi_problems(statement)
    assert any(expected in reason for reason in reasons), reasons
    # The strict validators agree (a statement without an object trips them with a KeyError).
    with pytest.raises((AssertionError, KeyError)):
        assert_valid_xapi(statement)


@pytest.mark.parametrize("case", sorted(CALIPER_BROKEN))
def test_broken_caliper_events_are_caught(case: str, options: Options) -> None:
    mutate, expected = CALIPER_BROKEN[case]
    event = copy.deepcopy(_valid("caliper", options))
    mutate(event)
    reasons = caliper_problems(event)
    assert any(expected in reason for reason in reasons), reasons
    if case not in STRICTER_THAN_THE_SCHEMAS:
        with pytest.raises(AssertionError):
            assert_valid_caliper_event(event)


def test_not_an_object() -> None:
    assert xapi_problems([]) == ["a statement is a JSON object, not list"]
    assert caliper_problems("x") == ["an event is a JSON object, not str"]


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("http://example.com/a", True),
        ("urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8", True),
        ("block-v1:edX+DemoX+Demo_Course+type@problem+block@1", True),
        ("no scheme", False),
        ("http://example.com/a b", False),
        ("http://example.com/<a>", False),
        ("", False),
        (3, False),
    ],
)
def test_is_iri(value: Any, valid: bool) -> None:
    assert is_iri(value) is valid


# --- agreement with the strict validators on damaged events --------------------------------------


def _agree(protocol: str, raw: dict[str, Any], options: Options) -> None:
    event = _normalised(raw)
    if event is None or event.name not in registry(protocol):
        return
    try:
        outputs = translate(event, protocol, options)
    except TranslationError:
        return
    for item in outputs:
        STRICT[protocol](item)  # valid (test_validity) ...
        assert problems(protocol, item) == []  # ... and the fast validator says so too


@PROPERTY_SETTINGS
@given(raw=damaged_events([n for n in erb_fixture_names()]))
def test_fast_validator_passes_what_the_translators_make_of_damaged_events(
    raw: dict[str, Any], options: Options
) -> None:
    for protocol in ("xapi", "caliper"):
        _agree(protocol, raw, options)


def _strict_rejects(protocol: str, item: dict[str, Any]) -> bool:
    try:
        STRICT[protocol](item)
    except (AssertionError, KeyError):  # the strict xAPI checks trip on a missing object
        return True
    return False


@PROPERTY_SETTINGS
@given(data=st.data())
def test_random_breakage_is_caught_as_the_strict_validators_do(
    data: st.DataObject, options: Options
) -> None:
    """Several breakages at once (one may undo another, e.g. two actor changes): the fast
    validator rejects exactly when the strict validators do."""
    protocol = data.draw(st.sampled_from(["xapi", "caliper"]))
    table = XAPI_BROKEN if protocol == "xapi" else CALIPER_BROKEN
    names = sorted(set(table) - STRICTER_THAN_THE_SCHEMAS)
    cases = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3))
    item = copy.deepcopy(_valid(protocol, options))
    for case in cases:
        # An earlier breakage may have removed what this one changes.
        with contextlib.suppress(KeyError, TypeError, AttributeError, IndexError):
            table[case][0](item)
    assert bool(problems(protocol, item)) == _strict_rejects(protocol, item), cases
