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
