"""The `erb-default` event set: ERB's default allowed-event lists, and how a consumer takes it."""

from __future__ import annotations

import pytest

from event_router.events import parse_json
from event_router.routing.consumer import Consumer
from event_router.routing.presets import (
    ERB_DEFAULT_CALIPER,
    ERB_DEFAULT_XAPI,
    ERB_LISTED_UNTRANSLATED,
    PresetError,
    preset_names,
)
from event_router.store import InvalidConfig
from event_router.store.consumers import validate
from event_router.translate import registry


def test_the_preset_is_erbs_default_lists_per_protocol() -> None:
    assert preset_names("erb-default", "xapi") == list(ERB_DEFAULT_XAPI)
    assert preset_names("erb-default", "caliper") == list(ERB_DEFAULT_CALIPER)
    edx = preset_names("erb-default", "edx")
    assert set(edx) == set(ERB_DEFAULT_XAPI) | set(ERB_DEFAULT_CALIPER) and len(edx) == len(
        set(edx)
    )
    # ERB 9.3.8's settings/common.py: 65 xAPI names and 26 Caliper names, none twice.
    assert len(ERB_DEFAULT_XAPI) == len(set(ERB_DEFAULT_XAPI)) == 65
    assert len(ERB_DEFAULT_CALIPER) == len(set(ERB_DEFAULT_CALIPER)) == 26
    assert preset_names("all", "xapi") == []


@pytest.mark.parametrize("protocol", ["xapi", "caliper"])
def test_every_name_erb_lists_has_a_translation_here(protocol: str) -> None:
    """Except the ones ERB lists but cannot translate either (no transformer registered in ERB):
    those are named, so a new gap shows up here."""
    names = ERB_DEFAULT_XAPI if protocol == "xapi" else ERB_DEFAULT_CALIPER
    missing = {name for name in names if name not in registry(protocol)}
    assert missing <= ERB_LISTED_UNTRANSLATED[protocol]
    assert ERB_LISTED_UNTRANSLATED[protocol] <= set(names)


def test_erb_default_leaves_out_what_a_default_erb_does_not_send() -> None:
    """The router translates these two (so does ERB), but ERB's defaults do not allow them: the
    preset must not either, or a migrated LRS would get statements it never got from ERB."""
    for name in ("edx.grades.problem.submitted", "edx.problem.completed"):
        assert name in registry("xapi")
        assert name not in ERB_DEFAULT_XAPI and name not in ERB_DEFAULT_CALIPER


def test_a_consumer_with_the_preset_stores_the_list_and_keeps_extra_names() -> None:
    consumer = Consumer.model_validate(
        {
            "name": "c",
            "protocol": "caliper",
            "url": "http://a.test/caliper",
            "events": "erb-default",
            "route": {"allow": ["edx.problem.completed"], "courses": ["course-v1:a+b+c"]},
        }
    )
    assert consumer.route.allow == [*ERB_DEFAULT_CALIPER, "edx.problem.completed"]
    assert consumer.route.courses == ["course-v1:a+b+c"]
    assert "events" not in consumer.model_dump()
    decide = consumer.route.decide

    def event(name: str) -> bytes:
        return (
            b'{"name": "%s", "timestamp": "2024-01-01T00:00:00Z", "data": {}, '
            b'"context": {"course_id": "course-v1:a+b+c", "user_id": 1}}' % name.encode()
        )

    assert decide(parse_json(event("problem_check"))).allowed
    assert decide(parse_json(event("edx.problem.completed"))).allowed
    refused = decide(parse_json(event("edx.grades.problem.submitted")))
    assert not refused.allowed and refused.rule == "not in allow list"


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ("erb", "events: unknown event set 'erb' (expected one of all, erb-default)"),
        (["erb-default"], "events: expected the name of an event set such as 'erb-default'"),
    ],
)
def test_an_unknown_preset_is_a_clear_error(events: object, message: str) -> None:
    with pytest.raises(InvalidConfig) as raised:
        validate({"name": "c", "url": "http://a.test/x", "events": events})
    assert raised.value.errors == [message]


def test_preset_error_for_an_unknown_protocol() -> None:
    with pytest.raises(PresetError):
        preset_names("erb-default", "smoke-signals")
