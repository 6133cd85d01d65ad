"""The generator's payloads of ERB's events (video, navigation, problems, forums, ...) are the
samples beside their translations (`translate/families`), with what the simulation decides: same
fields, same order, and a field the sample lacks is refused."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from event_router.events import parse_line
from event_router.generate import generate
from event_router.generate.visit import Progress, Visit, sampled
from event_router.generate.world import World
from event_router.translate.families import ERB_FAMILIES
from event_router.translate.samples import About, samples

ERB_NAMES = {row.name for family in ERB_FAMILIES for row in family.ROWS}


def visit() -> Visit:
    world = World(users=1, courses=1, seed=3)
    now = datetime(2024, 3, 1, tzinfo=UTC)
    course = world.courses[0]
    return Visit("http://lms", world.learners[0], course, Progress(), random.Random(1), now)


def test_server_payloads_have_their_samples_fields_in_order() -> None:
    seen = set()
    for generated in generate(3000, users=20, courses=2, seed=5):
        event = parse_line(generated.line())
        if event.name not in ERB_NAMES or not isinstance(event.data, dict):
            continue
        if event.name == "problem_check" and event.context.get("event_source") != "server":
            continue  # the browser's form is no object: its sample is the server's
        if event.name == "speed_change_video":
            continue  # its sample also names the playhead `currentTime`, as Ralph's model wants
        shape = samples()[event.name].payload(About(block="block-v1:o+c+r+type@x+block@1"))
        assert list(event.data) == list(shape), event.name
        seen.add(event.name)
    assert len(seen) >= 20


def test_a_field_the_sample_lacks_is_refused() -> None:
    data = sampled(visit(), "showanswer", "block-v1:o+c+r+type@problem+block@1")
    assert data == {"problem_id": "block-v1:o+c+r+type@problem+block@1"}
    with pytest.raises(ValueError, match=r"showanswer: its sample has no \['answer'\]"):
        sampled(visit(), "showanswer", "block-v1:o+c+r+type@problem+block@1", answer="42")


def test_erb_event_payloads_take_their_samples_fields() -> None:
    """The generator writes an ERB event's payload with its sample's fields, in that order:
    what it decides itself, else the sample's value; a field the sample lacks is refused."""
    name = "edx.course.enrollment.activated"
    assert list(sampled(visit(), name, mode="audit", user_id=7, course_id="c")) == [
        "course_id",
        "user_id",
        "mode",
    ]
    partial = sampled(visit(), name, course_id="c", user_id=7)
    assert list(partial) == ["course_id", "user_id", "mode"] and partial["user_id"] == 7
    with pytest.raises(ValueError, match="its sample has no"):
        sampled(visit(), name, course_id="c", user_id=7, mode="audit", extra=1)
