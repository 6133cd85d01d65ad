"""The synthetic event generator: every family, every event translatable and valid, consistent.

The router's own translation is the judge: a generated event that does not translate (or gives an
invalid statement) is a generator bug or a translation bug, and either must fail here.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import orjson
import pytest

from event_router.events import TrackingEvent, parse_line
from event_router.generate import Layout, generate
from event_router.routing.identity import IdentityPolicy
from event_router.translate import Options, TranslationError, Unsupported, registry, translate
from tests.validation import assert_valid_caliper_event, assert_valid_xapi

LMS = "http://localhost:18000"
OPTIONS = Options(lms_url=LMS, identity=IdentityPolicy("generator-test", LMS))
CLI = [sys.executable, "-m", "event_router", "generate"]


def events(count: int, **kwargs: object) -> list[TrackingEvent]:
    return [parse_line(g.line()) for g in generate(count, **kwargs)]  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def sample() -> list[TrackingEvent]:
    """A busy little instance: few learners and courses, so their stories go far."""
    return events(6000, users=40, courses=3, seed=7, layout=Layout.MIXED)


def test_every_family_the_router_translates_appears(sample: list[TrackingEvent]) -> None:
    names = {event.name for event in sample}
    assert set(registry("xapi")) <= names
    assert all(name in registry("xapi") for name in names)  # nothing else unless asked for
    assert any(name.startswith("/courses/") for name in names)  # server page views


def test_every_event_translates_to_xapi_and_caliper(sample: list[TrackingEvent]) -> None:
    unsupported: Counter[str] = Counter()
    for event in sample:
        for protocol in ("xapi", "caliper"):
            try:
                assert translate(event, protocol, OPTIONS)
            except Unsupported:
                assert protocol == "caliper", event.name
                unsupported[event.name] += 1
            except TranslationError as exc:
                pytest.fail(f"{event.name} does not translate to {protocol}: {exc.reason}")
    # Only names Caliper deliberately has no translation for (as in ERB).
    assert set(unsupported) == set(registry("xapi")) - set(registry("caliper"))


def test_translations_are_valid_xapi_and_caliper(sample: list[TrackingEvent]) -> None:
    """Up to four events of each name, validated by the strict validators (slow: sample)."""
    seen: Counter[tuple[str, str]] = Counter()
    checked = 0
    for event in sample:
        for protocol, check in (
            ("xapi", assert_valid_xapi),
            ("caliper", assert_valid_caliper_event),
        ):
            if seen[(protocol, event.name)] >= 4 or event.name not in registry(protocol):
                continue
            seen[(protocol, event.name)] += 1
            for item in translate(event, protocol, OPTIONS):
                check(item)
                checked += 1
    assert checked > 4 * len(registry("xapi"))


def test_consistent_learners_sessions_times_and_threads(sample: list[TrackingEvent]) -> None:
    times = [event.time for event in sample]
    assert all(a < b for a, b in pairwise(times)), "strictly increasing"
    learners_of_session: defaultdict[str, set[str | None]] = defaultdict(set)
    threads: set[str] = set()
    for event in sample:
        learners_of_session[event.session or ""].add(str(event.context.get("user_id")))
        assert event.course_id and event.course_id.startswith("course-v1:")
        assert event.context["org_id"] == event.course_id.split(":")[1].split("+")[0]
        data = event.data if isinstance(event.data, dict) else {}
        if event.name == "edx.forum.thread.created":
            threads.add(data["id"])
        elif "discussion" in data:
            assert data["discussion"]["id"] in threads, "a reply to a thread nobody created"
        if event.name == "problem_check" and isinstance(data, dict) and "problem_id" in data:
            assert data["problem_id"].startswith(f"block-v1:{event.course_id[10:]}+type@problem")
            assert 0 <= data["grade"] <= data["max_grade"]
    assert all(len(users) == 1 for users in learners_of_session.values())


def test_video_playhead_never_passes_the_end(sample: list[TrackingEvent]) -> None:
    for event in sample:
        data = event.data if isinstance(event.data, dict) else {}
        if "duration" in data and event.name not in ("edx.completion.block_completion.changed",):
            for key in ("currentTime", "current_time", "old_time", "new_time"):
                if key in data:
                    assert 0 <= data[key] <= data["duration"], (event.name, key, data)


def test_same_seed_same_events_other_seed_other_events() -> None:
    first = [g.line() for g in generate(300, seed=3)]
    assert first == [g.line() for g in generate(300, seed=3)]
    assert first != [g.line() for g in generate(300, seed=4)]


def test_both_layouts_carry_the_same_events() -> None:
    """The tracking-log and event-tracking renderings of one stream give identical statements."""
    logs = list(generate(400, seed=5, layout=Layout.TRACKING_LOG))
    bus = list(generate(400, seed=5, layout=Layout.EVENT_TRACKING))
    assert logs[0].line().split(b" - {", 1)[0].endswith(b"logger.py:41")  # the LMS logger prefix
    assert b'"event_type"' in logs[0].line() and b'"data"' in bus[0].line()
    browser = [g for g in logs if g.event["event_source"] == "browser"]
    assert browser and all(isinstance(g.event["event"], str) for g in browser)
    for log_line, bus_line in zip(logs, bus, strict=True):
        a, b = parse_line(log_line.line()), parse_line(bus_line.line())
        assert (a.name, a.timestamp, a.data) == (b.name, b.timestamp, b.data)
        assert translate(a, "xapi", OPTIONS) == translate(b, "xapi", OPTIONS)


def test_mixed_layout_mixes() -> None:
    layouts = Counter(g.layout for g in generate(500, layout=Layout.MIXED))
    assert layouts[Layout.TRACKING_LOG] > 100 and layouts[Layout.EVENT_TRACKING] > 100


def test_unsupported_share_adds_real_untranslated_events() -> None:
    names = Counter(e.name for e in events(2000, unsupported=0.2, seed=1))
    foreign = sum(n for name, n in names.items() if name not in registry("xapi"))
    assert 250 < foreign < 550


def test_cli_writes_gzip_and_courses_csv(tmp_path: Path) -> None:
    out, courses = tmp_path / "events.log.gz", tmp_path / "courses.csv"
    subprocess.run(
        [*CLI, "-n", "250", "--courses", "4", "--seed", "2", "-o", str(out), "--courses-csv",
         str(courses)],
        check=True,
    )  # fmt: skip
    lines = gzip.decompress(out.read_bytes()).splitlines()
    assert len(lines) == 250
    assert [parse_line(line).name for line in lines] == [
        e.name for e in events(250, seed=2, courses=4)
    ]
    rows = courses.read_text().splitlines()
    assert rows[0] == "course_id,display_name" and len(rows) == 5
    used = {parse_line(line).course_id for line in lines}
    assert used <= {row.split(",")[0] for row in rows[1:]}


def test_cli_stdout_event_tracking_layout() -> None:
    done = subprocess.run(
        [*CLI, "-n", "20", "--layout", "event-tracking"], check=True, capture_output=True
    )
    objects = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert len(objects) == 20
    assert all({"name", "timestamp", "data", "context"} <= set(o) for o in objects)


def test_cli_paces_at_the_rate_with_current_timestamps(tmp_path: Path) -> None:
    out = tmp_path / "paced.log"
    started = time.monotonic()
    before = datetime.now(UTC)
    subprocess.run([*CLI, "-n", "120", "--rate", "150", "-o", str(out)], check=True)
    elapsed = time.monotonic() - started
    assert elapsed >= 119 / 150  # 0.79 s of pacing at least (plus start-up)
    stamps = [parse_line(line).time for line in out.read_bytes().splitlines()]
    assert len(stamps) == 120
    assert before - timedelta(seconds=5) < stamps[0] < before + timedelta(seconds=30)
    assert stamps[-1] - stamps[0] < timedelta(seconds=10)


def test_cli_rejects_bad_arguments() -> None:
    done = subprocess.run([*CLI, "--layout", "xml"], capture_output=True, text=True)
    assert done.returncode == 2 and "xml" in done.stderr


def test_erb_event_payloads_take_their_samples_fields() -> None:
    """The generator writes an ERB event's payload with its sample's fields, in that order."""
    from event_router.generate.visit import shaped

    name = "edx.course.enrollment.activated"
    assert list(shaped(name, mode="audit", user_id=7, course_id="c")) == [
        "course_id",
        "user_id",
        "mode",
    ]
    with pytest.raises(ValueError, match="its sample has"):
        shaped(name, course_id="c", user_id=7)
    with pytest.raises(ValueError, match="its sample has"):
        shaped(name, course_id="c", user_id=7, mode="audit", extra=1)
