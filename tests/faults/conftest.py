"""Shared pieces of the fault-injection suite: real router processes, generated traffic, and the
reference ids `event-router transform` gives for the same events with the same home."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from event_router.generate import Layout, generate
from tests.peers.bus import bus_redis
from tests.peers.receiver import Receiver
from tests.peers.router import Router

__all__ = ["bus_redis"]


@pytest.fixture
def seed() -> int:
    """A fresh seed per run (faults land at other moments each time); FAULTS_SEED replays one."""
    value = int(os.environ.get("FAULTS_SEED") or random.SystemRandom().randrange(1 << 30))
    print(f"FAULTS_SEED={value}")  # shown with the failure: rerun with it to replay the schedule
    return value


def log_lines(count: int, seed: int, layout: Layout = Layout.TRACKING_LOG) -> list[bytes]:
    """`count` generated tracking-log lines of a lively instance (every event family)."""
    return [g.line() for g in generate(count, users=3000, courses=30, seed=seed, layout=layout)]


def transform_ids(router: Router, source: Path) -> list[str]:
    """What `event-router transform` prints for `source` with the router's home and key."""
    done = subprocess.run(
        [sys.executable, "-m", "event_router", "transform", "--to", "xapi", "-q", str(source)],
        capture_output=True,
        check=True,
        env={**router.env, "PATH": os.environ.get("PATH", "")},
    )
    return [json.loads(line)["id"] for line in done.stdout.splitlines()]


def lrs_consumer(router: Router, receiver: Receiver, **extra: object) -> None:
    router.add_consumer(
        name="lrs",
        protocol="xapi",
        url=receiver.url + "/xapi/statements",
        **{"batch_size": 200, "linger": 0.01, **extra},
    )


def wait_until(check: Callable[[], bool], timeout: float, message: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s: {message()}")
        time.sleep(0.1)


def assert_exact_delivery(receiver: Receiver, expected: list[str]) -> None:
    """The receiver holds exactly the expected ids; a duplicate is only a re-send of the same
    statement (identical content), never a different statement under the same id."""
    assert len(set(expected)) == len(expected), "the reference has duplicate ids"
    got = set(receiver.ids)
    missing, extra = set(expected) - got, got - set(expected)
    assert not missing and not extra, f"{len(missing)} missing, {len(extra)} unexpected"
    first: dict[str, object] = {}
    for item in receiver.received:
        assert first.setdefault(item.id, item.item) == item.item, f"{item.id} differs when re-sent"
