"""Helpers of the scale-out tests: distinct events, a group of router processes sharing a Redis
journal, and what Redis says of their consumer group and status snapshots."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import orjson

from tests.peers.router import Router
from tests.support.databases import JournalRedis

SECRET = "scale-out"


def play(i: int) -> dict[str, Any]:
    """A distinct play_video event (its timestamp makes its statement id unique)."""
    second, micro = divmod(i, 1_000_000)
    return {
        "name": "play_video",
        "timestamp": f"2024-02-01T00:{second // 60 % 60:02d}:{second % 60:02d}.{micro:06d}+00:00",
        "data": {
            "id": "0b9e39477cf34507a7a48f74be381fdd",
            "currentTime": i % 100,
            "duration": 600,
            "code": "x",
        },
        "context": {
            "course_id": "course-v1:edX+DemoX+Demo_Course",
            "user_id": i % 50 + 1,
            "session": "s",
            "org_id": "edX",
        },
    }


def routers(tmp_path: Path, journal: JournalRedis, control_plane: str, count: int) -> list[Router]:
    env = {
        "EVENT_ROUTER_JOURNAL": journal.url,
        "EVENT_ROUTER_JOURNAL_PREFIX": journal.prefix,
        "EVENT_ROUTER_DATABASE_URL": control_plane,
        "EVENT_ROUTER_SECRET_KEY": SECRET,
        "EVENT_ROUTER_TRANSLATION_WORKERS": "0",  # 2 cores for 3 routers, a receiver and Redis
        "EVENT_ROUTER_CLAIM_IDLE": "2",
    }
    return [Router(tmp_path / f"router-{i}", environment=env) for i in range(count)]


def member(router: Router) -> str:
    """The default member name of a router process: host name and pid."""
    assert router.process is not None
    return f"{socket.gethostname()}-{router.process.pid}"


def pending_of(journal: JournalRedis, group: str) -> dict[str, int]:
    summary: Any = journal.client.xpending(journal.stream, group)
    return {c["name"].decode(): int(c["pending"]) for c in summary["consumers"]}


def statuses(journal: JournalRedis) -> dict[str, dict[str, Any]]:
    raw: Any = journal.client.hgetall(f"{journal.prefix}:status")
    return {k.decode(): orjson.loads(v) for k, v in raw.items()}
