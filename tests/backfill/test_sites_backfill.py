"""Several sites through a backfill: worker processes translate with the sites of the
environment they inherit, so each site's events carry its own LMS URL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.backfill.conftest import Home
from tests.peers.receiver import Receiver

pytestmark = pytest.mark.timeout(120)

SITES = [{"lms_url": "https://courses.b.edu", "hosts": ["b.edu"]}]


def test_backfill_workers_use_the_sites(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENT_ROUTER_SITES", json.dumps(SITES))
    home = Home(tmp_path / "home")
    home.add_consumer(name="lrs", protocol="xapi", url=receiver.url + "/statements")
    lines = []
    for index, host in enumerate(["b.edu", "lms.other.org"] * 20):
        lines.append(
            {
                "name": "edx.course.enrollment.activated",
                "timestamp": f"2024-01-01T00:00:{index:02d}+00:00",
                "data": {"course_id": "course-v1:X+Y+Z", "user_id": 7, "mode": "audit"},
                "context": {"course_id": "course-v1:X+Y+Z", "user_id": 7, "host": host},
            }
        )
    log = tmp_path / "tracking.log"
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    done = home.backfill(str(log), "-c", "lrs", "--workers", "2")
    assert done.returncode == 0, done.stderr
    receiver.wait_for(40)
    pages = {s.item["actor"]["account"]["homePage"] for s in receiver.received}
    assert pages == {"https://courses.b.edu", "http://localhost:18000"}
    names = {
        s.item["actor"]["account"]["homePage"]: s.item["actor"]["account"]["name"]
        for s in receiver.received
    }
    assert len(set(names.values())) == 2  # user 7 of each LMS: two learners
