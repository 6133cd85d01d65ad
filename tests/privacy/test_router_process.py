"""End to end with real processes: a running router (translation workers on) forgets a learner
an operator forgot from the command line, and drops the fields the settings name."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.peers.receiver import Receiver
from tests.peers.router import ROUTER, Router
from tests.privacy.conftest import log_line
from tests.support.wait import wait_until

pytestmark = pytest.mark.timeout(180)


def write(log: Path, start: int, count: int, users: tuple[int, ...]) -> None:
    """`count` lines, each with its number in the payload (every item distinct), in one write."""
    lines = []
    for n in range(start, start + count):
        user = users[n % len(users)]
        raw = log_line(user, f"user{user}")
        raw["event"] = orjson.dumps({"course_id": "course-v1:edX+D+1", "n": n}).decode()
        lines.append(orjson.dumps(raw))
    with log.open("ab") as handle:
        handle.write(b"\n".join(lines) + b"\n")


def users_of(receiver: Receiver) -> list[Any]:
    return [received.item["context"]["user_id"] for received in receiver.received]


def test_a_learner_forgotten_from_the_cli_is_forgotten_by_the_running_router(
    tmp_path: Path, receiver: Receiver
) -> None:
    log = tmp_path / "tracking.log"
    log.touch()
    router = Router(
        tmp_path / "home",
        tracking_logs=[log],
        EVENT_ROUTER_TRANSLATION_WORKERS="2",
        EVENT_ROUTER_DROP_FIELDS="ip,agent",
    )
    router.add_consumer(
        name="raw",
        protocol="edx",
        sink="webhook",
        url=receiver.url + "/hook",
        identity="raw",
        signing_secret="k",
    )
    with router:
        write(log, 0, 4, (7, 8))
        receiver.wait_for(4)
        assert sorted(users_of(receiver)) == [7, 7, 8, 8]
        assert all("ip" not in r.item["context"] for r in receiver.received)
        # Kept in the journal while the consumer is off; then the learner is forgotten.
        router.update_consumer("raw", enabled=False)
        wait_until(
            lambda: router.status()["consumers"]["raw"]["state"] == "disabled", message="disabled"
        )
        write(log, 4, 4, (7, 8))
        wait_until(lambda: router.status()["journal"]["head"] == 8, message="ingested")
        done = subprocess.run(
            [*ROUTER, "learners", "forget", "--user-id", "7", "--json"],
            env=router.env,
            capture_output=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert orjson.loads(done.stdout)["journal"]["events"] == 4  # 2 sent, 2 waiting
        wait_until(lambda: router.status()["privacy"]["retired_in_force"] == 1, message="screening")
        # A big chunk: normalised (and screened) in the translation workers.
        write(log, 8, 300, (7, 8))
        wait_until(lambda: router.status()["journal"]["head"] == 8 + 150, message="ingested")
        router.update_consumer("raw", enabled=True)
        receiver.wait_for(4 + 2 + 150)
        wait_until(lambda: router.status()["consumers"]["raw"]["pending"] == 0, message="caught up")
        assert users_of(receiver).count(7) == 2  # only what left before the forget
        contexts = [received.item["context"] for received in receiver.received]
        assert not any("ip" in context or "agent" in context for context in contexts)
        status = router.status()
        assert status["privacy"]["retired_events_dropped"] == 150
        assert status["consumers"]["raw"]["skipped"] >= 2  # the redacted ones
    wait_until(
        lambda: router.cli_status()["privacy"]["retired_events_dropped"] == 150,
        message="in the status the CLI reads",
    )
