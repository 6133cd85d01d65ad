"""Shared pieces of the fault-injection suite: a seed per run, generated traffic, and the check
that a receiver holds exactly the reference ids (tests/support/reference.py)."""

from __future__ import annotations

import os
import random

import pytest

from event_router.generate import Layout, generate
from tests.peers.bus import bus_redis
from tests.peers.receiver import Receiver

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
