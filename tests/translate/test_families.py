"""The table-driven families (translate/families) give valid output or a reason, whatever the
event: hypothesis damages the Ralph-model samples the way test_validity damages ERB's fixtures
(fields dropped, set to null, 0, "", wrong types, other course keys, the other layout, odd
timestamps) and every translation that succeeds must pass the validators."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_router.events import normalise
from event_router.translate import Options, TranslationError, registry, translate
from tests.support.damage import (
    COURSE_KEYS,
    ODD_VALUES,
    PROPERTY_SETTINGS,
    TIMESTAMPS,
    _assign,
    _check,
    _drop,
    _mutable_paths,
    _set_time,
    _swap_course,
)
from tests.translate.fixtures.families.samples import SAMPLES
from tests.validation import assert_valid_caliper_event, assert_valid_xapi

# The samples of the newer families (ERB's events are damaged from its fixtures: test_validity).
_ERB_NAMES = {
    "problem_check", "showanswer", "edx.problem.hint.demandhint_displayed", "play_video",
    "pause_video", "load_video", "seek_video", "stop_video", "speed_change_video",
    "show_transcript", "hide_transcript", "video_show_cc_menu", "video_hide_cc_menu",
    "edx.course.enrollment.activated", "edx.course.enrollment.deactivated",
    "edx.course.enrollment.mode_changed",
}  # fmt: skip
FAMILY_SAMPLES = sorted(k for k, e in SAMPLES.items() if e["event_type"] not in _ERB_NAMES)


@st.composite
def damaged(draw: st.DrawFn) -> dict[str, Any]:
    raw: dict[str, Any] = copy.deepcopy(SAMPLES[draw(st.sampled_from(FAMILY_SAMPLES))])
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        kind = draw(st.sampled_from(["drop", "set", "course", "time"]))
        if kind in ("drop", "set"):
            path = draw(st.sampled_from(_mutable_paths(raw)))
            if kind == "drop":
                _drop(raw, path)
            else:
                _assign(raw, path, copy.deepcopy(draw(st.sampled_from(ODD_VALUES))))
        elif kind == "course":
            raw = _swap_course(raw, draw(st.sampled_from(COURSE_KEYS)), draw(st.booleans()))
        else:
            _set_time(raw, draw(st.sampled_from(TIMESTAMPS)))
    return raw


@pytest.mark.parametrize("name", FAMILY_SAMPLES)
def test_family_samples_translate_to_valid_output(name: str, options: Options) -> None:
    event = normalise(SAMPLES[name])
    (statement,) = translate(event, "xapi", options)
    assert_valid_xapi(statement)
    if event.name in registry("caliper"):
        (caliper,) = translate(event, "caliper", options)
        assert_valid_caliper_event(caliper)


def test_a_family_event_without_its_object_is_refused(options: Options) -> None:
    raw = copy.deepcopy(SAMPLES["EdxTeamCreated"])
    raw["event"] = {}
    with pytest.raises(TranslationError, match="team_id"):
        translate(normalise(raw), "xapi", options)


@PROPERTY_SETTINGS
@given(raw=damaged())
def test_damaged_family_events_give_valid_xapi_or_a_reason(
    raw: dict[str, Any], options: Options
) -> None:
    _check("xapi", raw, options)


@PROPERTY_SETTINGS
@given(raw=damaged())
def test_damaged_family_events_give_valid_caliper_or_a_reason(
    raw: dict[str, Any], options: Options
) -> None:
    _check("caliper", raw, options)  # names with no Caliper translation are refused: fine


def test_every_table_row_is_documented() -> None:
    """docs/translations.md has a line for every event a family table translates."""
    from pathlib import Path

    from event_router.translate import families

    doc = (Path(__file__).parents[2] / "docs" / "translations.md").read_text()
    rows = [row for family in vars(families).values() for row in getattr(family, "ROWS", ())]
    assert {"problem_check", "play_video", "edx.team.created"} <= {row.name for row in rows}
    for row in rows:
        assert f"| `{row.name}` |" in doc, row.name
