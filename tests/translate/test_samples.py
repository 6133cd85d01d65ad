"""Every table row has its sample event beside it (translate/families), and that sample
translates to valid xAPI, and to valid Caliper exactly when the row has a Caliper side."""

from __future__ import annotations

from typing import Any

import pytest

from event_router.events import normalise
from event_router.translate import Options, Unsupported, registry, translate
from event_router.translate import families as families_package
from event_router.translate.samples import About, Sample, hex_id, samples, tracking_event
from event_router.translate.table import Row, register
from tests.translate.coverage import ralph_models
from tests.validation import assert_valid_caliper_event, assert_valid_xapi

COURSE = "course-v1:edX+DemoX+Demo_Course"


def about(kind: str) -> About:
    block = f"block-v1:edX+DemoX+Demo_Course+type@{kind}+block@{hex_id(kind)}" if kind else ""
    return About(course_id=COURSE, block=block)


def rows() -> dict[str, Row]:
    registry("xapi")  # imports every family
    found: dict[str, Row] = {}
    for family in vars(families_package).values():
        for row in getattr(family, "ROWS", ()):
            found[row.name] = row
    return found


@pytest.mark.parametrize("name", sorted(samples()))
def test_each_sample_translates_to_valid_output(name: str, options: Options) -> None:
    sample = samples()[name]
    event = normalise(tracking_event(name, about(sample.kind)))
    (statement,) = translate(event, "xapi", options)
    assert_valid_xapi(statement)
    if rows()[name].caliper is not None:
        (caliper,) = translate(event, "caliper", options)
        assert_valid_caliper_event(caliper)
    else:
        with pytest.raises(Unsupported):
            translate(event, "caliper", options)


def test_every_row_has_its_sample_and_no_more() -> None:
    assert set(samples()) == set(rows())
    assert len(samples()) >= 88


def test_a_row_without_its_sample_is_refused_at_registration() -> None:
    row = rows()["page_close"]
    orphan = Row("edx.example.unsampled", row.verb, row.activity_type, row.target)
    with pytest.raises(ValueError, match=r"rows without a sample: \['edx.example.unsampled'\]"):
        register([orphan], {})
    with pytest.raises(ValueError, match=r"samples without a row: \['edx.example.extra'\]"):
        register([], {"edx.example.extra": Sample("browser", "", lambda a: {})})
    assert "edx.example.unsampled" not in registry("xapi")


def ralph_models_by_event() -> dict[tuple[str, str], type[Any]]:
    found = {}
    for model in ralph_models().values():
        selector = {rule.field.path[0]: rule.value for rule in model.__selector__}
        found[(selector["event_source"], selector["event_type"])] = model
    return found


# The events Ralph has no model of (their samples follow the LMS source): the video language
# menu, and ERB's forum, special exam and grade events and `edx.problem.completed`.
@pytest.mark.parametrize("name", sorted(samples()))
def test_each_sample_is_what_ralph_models_for_its_event(name: str) -> None:
    """Where Ralph models the event, the sample beside its row is a valid instance of it."""
    sample = samples()[name]
    models = ralph_models_by_event()
    model = models.get((sample.source, name))
    if model is None:  # Ralph has no model of it (the mobile app's, the language menus, ...)
        assert name not in {event for _, event in models}, f"Ralph models {name} elsewhere"
        return
    event = tracking_event(name, about(sample.kind))
    if "upgrade" in name:  # these name the mode in their context: audit until it succeeds
        event["context"]["mode"] = "audit" if sample.source == "browser" else "verified"
    item = event["event"].get("item_id") if isinstance(event["event"], dict) else None
    if isinstance(item, str):  # Ralph's ORA pattern reads `+block@` as "one or more t"
        event["event"]["item_id"] = item.replace("+block@", "block@")
    model.model_validate({k: v for k, v in event.items() if k in model.model_fields})
