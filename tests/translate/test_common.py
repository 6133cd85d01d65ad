"""Shared statement builders: what every family relies on."""

from __future__ import annotations

import copy

from event_router.events import normalise
from event_router.translate import Options, translate
from tests.conftest import erb_event
from tests.validation import assert_valid_xapi


def test_non_text_question_becomes_text_or_is_left_out(options: Options) -> None:
    """Found by the property test: a submission whose `question` is a number or an object."""
    event = erb_event("problem_check(server)")
    for question, expected in ((-1, "-1"), (2.5, "2.5"), ({"x": 1}, None), (True, None)):
        damaged = copy.deepcopy(event.raw)
        for submission in damaged["event" if "event" in damaged else "data"]["submission"].values():
            submission["question"] = question
        (statement,) = translate(normalise(damaged), "xapi", options)
        assert_valid_xapi(statement)
        description = statement["object"]["definition"].get("description")
        assert description == ({"en-US": expected} if expected else None)


def test_statement_ids_are_erb_ids_and_stable(options: Options) -> None:
    event = erb_event("play_video")
    first = translate(event, "xapi", options)
    assert translate(event, "xapi", options) == first
    assert first[0]["id"] == "203e182c-6a2d-5458-9c61-a271297d459a"  # ERB's golden id


def test_one_caliper_envelope_builder() -> None:
    """The sink and `transform` wrap events with `Envelope`: head once, events spliced as bytes."""
    from datetime import UTC, datetime

    import orjson

    from event_router.translate.caliper.common import CONTEXT, Envelope

    moment = datetime(2026, 12, 6, 7, 0, 1, 234567, tzinfo=UTC)
    events = [orjson.dumps({"id": "urn:uuid:1"}), orjson.dumps({"id": "urn:uuid:2"})]
    plain = orjson.loads(Envelope("urn:s", clock=lambda: moment).wrap(events))
    assert plain == {
        "sensor": "urn:s",
        "sendTime": "2026-12-06T07:00:01.234Z",
        "dataVersion": CONTEXT,
        "data": [{"id": "urn:uuid:1"}, {"id": "urn:uuid:2"}],
    }
    extra = {"sensor": "urn:other", "data": ["never"], "custom": 1}
    merged = orjson.loads(Envelope("urn:s", extra, clock=lambda: moment).wrap(events))
    assert merged["sensor"] == "urn:other" and merged["custom"] == 1
    assert merged["data"] == plain["data"]
    assert orjson.loads(Envelope("urn:s").wrap([]))["data"] == []
