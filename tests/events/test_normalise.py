"""Normalisation: both layouts, raw log lines, and precise errors for everything else."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from event_router.events import NormaliseError, normalise, parse_json, parse_line
from tests.conftest import ERB

EVENT_TRACKING = {
    "name": "play_video",
    "timestamp": "2020-07-15T06:52:55.057099+00:00",
    "data": {"id": "abc", "currentTime": 1.5},
    "context": {"course_id": "course-v1:edX+DemoX+Demo_Course", "user_id": 3, "session": "s1"},
}


def test_event_tracking_layout() -> None:
    event = normalise(EVENT_TRACKING)
    assert event.name == "play_video"
    assert event.timestamp == "2020-07-15T06:52:55.057099+00:00"
    assert event.time == datetime(2020, 7, 15, 6, 52, 55, 57099, tzinfo=UTC)
    assert event.data == {"id": "abc", "currentTime": 1.5}
    assert event.course_id == "course-v1:edX+DemoX+Demo_Course"
    assert event.session == "s1"
    assert event.user_key == "3"


def test_tracking_log_layout_parses_event_string_and_folds_top_level_fields() -> None:
    line = {
        "event_type": "play_video",
        "time": "2020-07-15T06:52:55+02:00",
        "event": json.dumps({"id": "abc", "currentTime": 2}),
        "username": "edx",
        "session": "top-session",
        "event_source": "browser",
        "referer": "http://lms/x",
        "context": {"course_id": "course-v1:a+b+c", "user_id": 3, "session": "ctx-session"},
    }
    event = normalise(line)
    assert event.name == "play_video"
    assert event.data == {"id": "abc", "currentTime": 2}
    assert event.time.utcoffset() == timedelta(hours=2)
    # Top-level request fields win over context, as in ERB's lookups.
    assert event.session == "top-session"
    assert event.context["event_source"] == "browser"
    assert event.context["username"] == "edx"
    assert event.context["user_id"] == 3
    assert event.raw is line


def test_event_string_that_is_not_json_is_kept_as_text() -> None:
    event = normalise(
        {"event_type": "problem_check", "time": "2020-01-01T00:00:00Z", "event": "input_a_2_1=x"}
    )
    assert event.data == "input_a_2_1=x"


def test_raw_log_line_with_logger_prefix() -> None:
    line = (ERB / "tracking.log").read_text().splitlines()[0]
    event = parse_line(line)
    assert event.name == "edx.grades.subsection.grade_calculated"
    assert event.data["weighted_total_earned"] == 3.0


def test_naive_timestamp_is_utc_and_space_separator_accepted() -> None:
    event = normalise({"name": "x", "time": "2023-05-23 13:53:13.460372"})
    assert event.time == datetime(2023, 5, 23, 13, 53, 13, 460372, tzinfo=UTC)


def test_offset_is_kept() -> None:
    event = normalise({"name": "x", "timestamp": "2023-05-23T13:53:13-05:00"})
    assert event.time.tzinfo == timezone(timedelta(hours=-5))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ([1, 2], "expected a JSON object, got list"),
        ("text", "expected a JSON object, got str"),
        ({"timestamp": "2020-01-01T00:00:00Z"}, "event has no name"),
        ({"name": "", "timestamp": "2020-01-01T00:00:00Z"}, "event has no name"),
        ({"name": 12, "timestamp": "2020-01-01T00:00:00Z"}, "event has no name"),
        ({"name": "x"}, "timestamp is missing"),
        ({"name": "x", "timestamp": "yesterday"}, "is not ISO 8601"),
        ({"name": "x", "timestamp": 1595000000}, "timestamp is missing or not a string"),
        ({"name": "x", "time": "2020-01-01T00:00:00Z", "event": "{broken"}, "does not parse"),
        ({"name": "x", "time": "2020-01-01T00:00:00Z", "context": [1]}, "`context` is not"),
        ({"name": "x" * 300, "time": "2020-01-01T00:00:00Z"}, "longer than 255"),
    ],
)
def test_malformed_input_has_a_precise_reason(raw: object, reason: str) -> None:
    with pytest.raises(NormaliseError) as caught:
        normalise(raw)
    assert reason in caught.value.reason


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("", "empty line"),
        ("2023-05-23 INFO no json here", "no JSON object"),
        ('prefix - {"name": "x", "time": ', "not valid JSON"),
    ],
)
def test_malformed_lines(line: str, reason: str) -> None:
    with pytest.raises(NormaliseError) as caught:
        parse_line(line)
    assert reason in caught.value.reason


def test_every_line_of_the_erb_tracking_log_is_accounted_for() -> None:
    good, bad = 0, 0
    for line in (ERB / "tracking.log").read_text().splitlines():
        try:
            parse_line(line)
            good += 1
        except NormaliseError:
            bad += 1
    assert (good, bad) == (10, 2)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.sampled_from([*EVENT_TRACKING, "event", "time"]), json_values))
def test_fuzzed_objects_normalise_or_fail_cleanly(raw: dict[str, object]) -> None:
    try:
        event = normalise(raw)
    except NormaliseError as exc:
        assert exc.reason
    else:
        assert isinstance(event.name, str) and event.name
        assert event.time.tzinfo is not None


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_fuzzed_lines_normalise_or_fail_cleanly(line: bytes) -> None:
    try:
        parse_line(line)
    except NormaliseError as exc:
        assert exc.reason


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_fuzzed_json_text(text: str) -> None:
    try:
        parse_json(text)
    except NormaliseError as exc:
        assert exc.reason
