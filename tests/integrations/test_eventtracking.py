"""The LMS backend with the REAL event-tracking library (DjangoTracker built from
EVENT_TRACKING_BACKENDS, as in the LMS) forwarding to a real router process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from event_router.integrations.eventtracking import EventRouterBackend
from event_router.journal import SqliteJournal
from tests.peers.router import Router
from tests.support.wait import wait_until

pytestmark = pytest.mark.timeout(120)
TOKEN = "lms-token"
BACKEND = "event_router.integrations.eventtracking.EventRouterBackend"

if not settings.configured:
    settings.configure(INSTALLED_APPS=[], USE_TZ=True)

from django.test.utils import override_settings  # noqa: E402  (needs configured settings)
from eventtracking.django.django_tracker import DjangoTracker  # noqa: E402

RECORDED: list[dict[str, Any]] = []


class Recorder:
    """A second backend keeping what the tracker handed to its backends (the reference)."""

    def send(self, event: dict[str, Any]) -> None:
        from eventtracking.backends.logger import DateTimeJSONEncoder

        RECORDED.append(json.loads(json.dumps(event, cls=DateTimeJSONEncoder)))


def lms_tracker(**options: Any) -> tuple[DjangoTracker, EventRouterBackend]:
    """The LMS's tracker, built from settings exactly as `override_default_tracker` does."""
    backends = {
        "event_router": {"ENGINE": BACKEND, "OPTIONS": options},
        "recorder": {"ENGINE": f"{__name__}.Recorder"},
    }
    with override_settings(EVENT_TRACKING_BACKENDS=backends, EVENT_TRACKING_PROCESSORS=[]):
        tracker = DjangoTracker()
    backend = tracker.get_backend("event_router")
    assert isinstance(backend, EventRouterBackend)
    return tracker, backend


@pytest.fixture
def router(tmp_path: Path) -> Iterator[Router]:
    RECORDED.clear()
    peer = Router(tmp_path / "home", EVENT_ROUTER_INGEST_TOKEN=TOKEN)
    yield peer
    if peer.process is not None:
        peer.stop()


def emit(tracker: DjangoTracker, i: int, **data: Any) -> float:
    """One learner action through the real tracker; returns how long the call took."""
    context = {"user_id": i % 7, "username": "Élodie", "course_id": "course-v1:edX+DemoX+Demo"}
    started = time.perf_counter()
    with tracker.context("request", context):
        tracker.emit("play_video", {"id": "abc", "currentTime": i, **data})
    return time.perf_counter() - started


def assert_never_waited(took: list[float]) -> None:
    """No call waited for the router (a connection attempt or timeout takes far longer)."""
    assert took[len(took) // 2] < 0.002, f"median {took[len(took) // 2]:.4f} s"
    assert took[-1] < 0.5, f"slowest {took[-1]:.3f} s"


def journal_events(router: Router) -> list[dict[str, Any]]:
    journal = SqliteJournal(router.home / "journal.db")
    try:
        entries, bad = journal.read(0, 100_000)
    finally:
        journal.close()
    assert bad == []
    return [e.event.as_dict() for e in entries]


def test_events_reach_the_router_as_the_tracker_sent_them(router: Router, tmp_path: Path) -> None:
    router.start()
    tracker, backend = lms_tracker(url=router.url, token=TOKEN, spool_dir=str(tmp_path / "spool"))
    for i in range(300):
        emit(tracker, i)
    with tracker.context("browser", {"event_source": "browser"}):
        tracker.emit("problem_check", "input_1=choice_2")  # a string payload
    assert backend.flush(10)
    router.stop()
    assert journal_events(router) == RECORDED  # same names, timestamps, data and context
    assert RECORDED[0]["timestamp"].endswith("+00:00") and len(RECORDED) == 301
    assert backend.stats["sent"] == 301 and backend.stats["spooled"] == 0
    backend.close()


def test_filtered_by_an_event_tracking_processor(router: Router, tmp_path: Path) -> None:
    """The documented way to forward only some events: a RoutingBackend with a RegexFilter."""
    router.start()
    options = {"url": router.url, "token": TOKEN, "spool_dir": str(tmp_path / "spool")}
    backends = {
        "event_router": {
            "ENGINE": "eventtracking.backends.routing.RoutingBackend",
            "OPTIONS": {
                "processors": [
                    {
                        "ENGINE": "eventtracking.processors.regex_filter.RegexFilter",
                        "OPTIONS": {
                            "filter_type": "allowlist",
                            "regular_expressions": [r"edx\.video\..*", "problem_check"],
                        },
                    }
                ],
                "backends": {"router": {"ENGINE": BACKEND, "OPTIONS": options}},
            },
        }
    }
    with override_settings(EVENT_TRACKING_BACKENDS=backends, EVENT_TRACKING_PROCESSORS=[]):
        tracker = DjangoTracker()
    backend = tracker.get_backend("event_router").backends["router"]
    for name in ("edx.video.played", "edx.course.enrollment.activated", "problem_check"):
        tracker.emit(name, {"user_id": 1})
    assert backend.flush(10)
    router.stop()
    assert [e["name"] for e in journal_events(router)] == ["edx.video.played", "problem_check"]
    backend.close()


def test_router_down_events_spooled_then_replayed_in_order(router: Router, tmp_path: Path) -> None:
    router.start()
    spool = tmp_path / "spool"
    tracker, backend = lms_tracker(url=router.url, token=TOKEN, spool_dir=str(spool), linger=0.01)
    for i in range(50):
        emit(tracker, i)
    assert backend.flush(10)
    router.stop()
    took = sorted(emit(tracker, i) for i in range(50, 250))  # the router is down
    assert_never_waited(took)
    assert backend.flush(10)
    assert backend.stats["spooled"] == 200 and list(spool.glob("*.ndjson"))
    router.start()
    wait_until(lambda: backend.stats["replayed"] == 200, message=f"replay ({backend.stats})")
    for i in range(250, 260):
        emit(tracker, i)
    assert backend.flush(10)
    router.stop()
    events = journal_events(router)
    assert [e["data"]["currentTime"] for e in events] == list(range(260))
    assert events == RECORDED
    assert not list(spool.glob("*.ndjson"))  # replayed segments are removed
    assert backend.stats["dropped"] == 0
    backend.close()


def test_full_buffer_spills_to_disk_without_blocking(router: Router, tmp_path: Path) -> None:
    tracker, backend = lms_tracker(
        url=router.url, token=TOKEN, spool_dir=str(tmp_path / "spool"), buffer_size=5
    )
    took = sorted(emit(tracker, i, padding="x" * 500) for i in range(1000))  # router not started
    assert_never_waited(took)
    assert backend.flush(10)
    assert backend.stats["spooled"] == 1000 and backend.stats["dropped"] == 0
    router.start()
    wait_until(lambda: backend.stats["replayed"] == 1000, message=f"replay ({backend.stats})")
    router.stop()
    assert sorted(e["data"]["currentTime"] for e in journal_events(router)) == list(range(1000))
    backend.close()


def test_rejected_events_are_logged_not_retried(
    router: Router, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    router.start()
    tracker, backend = lms_tracker(url=router.url, token=TOKEN, spool_dir=str(tmp_path / "spool"))
    emit(tracker, 1)
    tracker.emit("x" * 300, {})  # the router refuses names longer than 255 characters
    emit(tracker, 2)
    assert backend.flush(10)
    wait_until(lambda: router.status()["journal"]["head"] == 2, message="both journaled")
    router.stop()
    assert [e["data"]["currentTime"] for e in journal_events(router)] == [1, 2]
    assert backend.stats["rejected"] == 1 and backend.stats["spooled"] == 0
    assert "event router rejected an event" in caplog.text
    backend.close()


def test_wrong_token_keeps_events_until_fixed(router: Router, tmp_path: Path) -> None:
    router.start()
    spool = str(tmp_path / "spool")
    tracker, wrong = lms_tracker(url=router.url, token="nope", spool_dir=spool)
    for i in range(5):
        emit(tracker, i)
    assert wrong.flush(10)
    assert wrong.stats["spooled"] == 5 and wrong.stats["failures"] >= 1
    wrong.close()  # the operator fixes the token and restarts the LMS
    tracker, right = lms_tracker(url=router.url, token=TOKEN, spool_dir=spool)
    emit(tracker, 5)
    wait_until(
        lambda: right.stats["replayed"] == 5 and right.stats["sent"] == 6, message=str(right.stats)
    )
    router.stop()
    assert sorted(e["data"]["currentTime"] for e in journal_events(router)) == list(range(6))
    right.close()


_DYING_LMS = """
import os, sys
from event_router.integrations.eventtracking import EventRouterBackend
backend = EventRouterBackend(sys.argv[1], "t", spool_dir=sys.argv[2])
for i in range(40):
    backend.send({"name": "play_video", "timestamp": "2024-01-01T00:00:00+00:00",
                  "data": {"currentTime": 100 + i}, "context": {"user_id": 1}})
backend.flush(10)
os._exit(0)  # no atexit, no cleanup: the worker is killed
"""


def test_spool_of_a_dead_worker_is_replayed_by_another(router: Router, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    subprocess.run([sys.executable, "-c", _DYING_LMS, router.url, str(spool)], check=True)
    assert len(list(spool.glob("*.ndjson"))) == 1  # router was down: all 40 on disk
    router.start()
    tracker, backend = lms_tracker(url=router.url, token=TOKEN, spool_dir=str(spool))
    emit(tracker, 0)
    wait_until(lambda: backend.stats["replayed"] == 40, message=str(backend.stats))
    assert backend.flush(10)
    router.stop()
    times = sorted(e["data"]["currentTime"] for e in journal_events(router))
    assert times == [0, *range(100, 140)]
    backend.close()
