"""A backfill sends nothing of a forgotten learner and none of the dropped fields: historic logs
pass the same privacy screen as live ingest (the CLI and the backfill are real processes)."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pytest

from event_router.events import parse_line
from event_router.privacy.screen import identifiers
from tests.backfill.conftest import ROUTER, Home, write_log
from tests.peers.receiver import Receiver

pytestmark = pytest.mark.timeout(300)


def test_forgotten_learners_and_dropped_fields_never_leave_in_a_backfill(
    tmp_path: Path, receiver: Receiver
) -> None:
    home = Home(tmp_path / "home")
    url = receiver.url + "/hook"
    home.add_consumer(
        name="raw", protocol="edx", sink="webhook", url=url, identity="raw", signing_secret="k"
    )
    log = write_log(tmp_path / "tracking.log", 600)
    users = Counter(
        value
        for line in log.read_bytes().splitlines()
        for kind, value in identifiers(parse_line(line))
        if kind == "id"
    )
    forgotten, count = users.most_common(1)[0]
    mentions = sum(
        ("id", forgotten) in identifiers(parse_line(line)) for line in log.read_bytes().splitlines()
    )
    done = subprocess.run(
        [*ROUTER, "learners", "forget", "--user-id", forgotten],
        env=home.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    home_env = home.env
    home_env["EVENT_ROUTER_DROP_FIELDS"] = "ip,agent"
    done = subprocess.run(
        [*ROUTER, "backfill", str(log), "-c", "raw", "--report-json", str(tmp_path / "r.json")],
        env=home_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    items = [received.item for received in receiver.received]
    assert len(items) == 600 - mentions and count <= mentions
    for item in items:
        context = item["context"]
        assert str(context.get("user_id")) != forgotten
        data = item["data"] if isinstance(item["data"], dict) else {}
        assert str(data.get("user_id")) != forgotten
        assert "ip" not in context and "agent" not in context
    assert f"{mentions:,} event(s) of forgotten learners not sent" in done.stdout + done.stderr
