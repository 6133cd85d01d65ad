"""Shared test fixtures: the ERB golden files and translation options that reproduce ERB's setup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from event_router.events import TrackingEvent, normalise
from event_router.routing.catalogue import CourseCatalogue
from event_router.routing.identity import IdentityPolicy, IdentityTable, Learner
from event_router.translate import Options

pytest_plugins = ["tests.peers.fixtures", "tests.support.databases", "tests.tiers"]

SHARED = Path(__file__).resolve().parents[2] / "shared"
ERB = SHARED / "fixtures" / "erb"
ERB_ANONYMOUS_ID = "32e08e30-f8ae-4ce2-94a8-c2bfe38a70cb"
ERB_LMS_URL = "http://localhost:18000"
DEMO_COURSE = "course-v1:edX+DemoX+Demo_Course"


def erb_event(name: str) -> TrackingEvent:
    return normalise(json.loads((ERB / "events" / f"{name}.json").read_text()))


def erb_fixture_names() -> list[str]:
    return sorted(p.stem for p in (ERB / "events").glob("*.json"))


def erb_options(*events: TrackingEvent) -> Options:
    """ERB's test setup: every learner is 32e08e30-…, the demo course is "Demonstration Course".

    Built with the real identity table (as an operator importing ERB's ids would), listing the
    learners of the given events (all ERB fixtures when none are given).
    """
    table = IdentityTable()
    for event in events or tuple(erb_event(n) for n in erb_fixture_names()):
        learner = Learner.of(event)
        for kind in ("xapi", "caliper"):
            table.add(kind, ERB_ANONYMOUS_ID, learner.user_id, learner.username)
    return Options(
        lms_url=ERB_LMS_URL,
        identity=IdentityPolicy("test-secret", ERB_LMS_URL, table),
        # ERB's tests name every course "Demonstration Course" (the forum fixtures use two others)
        courses=CourseCatalogue(
            dict.fromkeys(
                (DEMO_COURSE, "course-v1:testX+XAPI101+2019_T2", "course-v1:TestX+XP101+2023_T1"),
                "Demonstration Course",
            )
        ),
    )


@pytest.fixture(scope="session")
def options() -> Options:
    return erb_options()
