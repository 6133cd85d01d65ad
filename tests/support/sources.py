"""Helpers of the source tests: bus events and a bus source run until a condition holds, the
LMS's events as the real producer emits them, and a tracking log followed by a router run."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

from event_router.journal import SqliteJournal
from event_router.sources.bus import BusSource
from event_router.sources.tracking_log import TrackingLogSource
from tests.peers.bus import BusRedis
from tests.support.wait import until

GROUP = "event-router"


def event(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": "edx.course.enrollment.activated",
        "timestamp": f"2024-03-05T10:00:{i % 60:02d}.{i:06d}+00:00",
        "data": {"course_id": "course-v1:edX+DemoX+Demo_Course", "user_id": i, "mode": "audit"},
        "context": {"user_id": i, "org_id": "edX", "course_id": "course-v1:edX+DemoX+Demo_Course"},
        **extra,
    }


def source(journal: SqliteJournal, bus: BusRedis, **options: Any) -> BusSource:
    options.setdefault("consumer", "router-a")
    options.setdefault("block", 0.05)
    return BusSource(journal, bus.url, "analytics", prefix=bus.prefix, group=GROUP, **options)


def run_until(reader: BusSource, done: Callable[[], bool], timeout: float = 20) -> None:
    """Run the source until `done()` (checked every 20 ms), then stop it gracefully."""

    async def go() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(reader.run(stop))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not done():
            if task.done():
                task.result()
                raise AssertionError("source ended by itself")
            if loop.time() > deadline:
                stop.set()
                await task
                raise AssertionError(f"timed out; counts {dict(reader.counts)}")
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(task, 10)

    asyncio.run(go())


def names_and_users(journal: SqliteJournal) -> list[tuple[str, Any]]:
    entries, bad = journal.read(0, 100_000)
    assert bad == []
    return [(e.event.name, e.event.data.get("user_id")) for e in entries]


COURSE = "course-v1:edX+DemoX+Demo_Course"


CONTEXT = {
    "user_id": 42,
    "username": "Élodie",
    "course_id": COURSE,
    "org_id": "edX",
    "session": "e4b5b5a2c2a0d2c7",
    "ip": "10.0.0.1",
    "agent": "Mozilla/5.0 😀",
    "path": "/courses/x/xblock/y/handler/xmodule_handler/problem_check",
    "enterprise_uuid": "",
}


LMS_EVENTS: list[dict[str, Any]] = [
    {
        "name": "edx.course.enrollment.activated",
        "data": {"course_id": COURSE, "user_id": 42, "mode": "audit"},
        "context": CONTEXT,
    },
    {  # a browser problem_check: `data` is a query string, so a JSON *string literal* on the bus
        "name": "problem_check",
        "data": "input_0bd1_2_1=choice_1&input_0bd1_3_1=%C3%A9t%C3%A9",
        "context": {**CONTEXT, "event_source": "browser", "page": "https://lms/x"},
    },
    {
        "name": "play_video",
        "data": {
            "id": "0b9e39477cf34507a7a48f74be381fdd",
            "currentTime": 1.5,
            "duration": 600,
            "code": "html5",
        },
        "context": {**CONTEXT, "event_source": "browser"},
    },
    {
        "name": "edx.grades.subsection.grade_calculated",
        "data": {
            "user_id": 42,
            "course_id": COURSE,
            "weighted_graded_earned": 1.0,
            "nested": {"list": [1, None, True, "ü"], "empty": {}},
        },
        "context": {"course_id": COURSE, "org_id": "edX", "enterprise_uuid": ""},  # from a task
    },
]


def line(i: int, prefix: str = "2023-05-23 13:53:13,461 INFO 20 [tracking] logger.py:41 - ") -> str:
    event = {"event_type": "play_video", "time": "2020-07-15T06:52:55+00:00", "event": {"i": i}}
    return prefix + orjson.dumps(event).decode() + "\n"


def seen(journal: SqliteJournal) -> list[int]:
    entries, _ = journal.read(0, 100_000)
    return [e.event.data["i"] for e in entries]


def follow(path: Path, journal: SqliteJournal, scenario: Callable[[], Awaitable[None]]) -> None:
    async def go() -> None:
        stop = asyncio.Event()
        source = TrackingLogSource(path, journal, poll=0.01)
        task = asyncio.create_task(source.run(stop))
        try:
            await scenario()
        finally:
            stop.set()
            await task

    asyncio.run(go())


def follow_until(path: Path, journal: SqliteJournal, count: int) -> None:
    """Run the follower (as a router run would) until `count` events are in, and a little more
    (to see that nothing else comes)."""

    async def scenario() -> None:
        await until(lambda: len(seen(journal)) >= count)
        await asyncio.sleep(0.1)

    follow(path, journal, scenario)


def followed(tmp_path: Path, count: int) -> tuple[Path, SqliteJournal]:
    """A log of `count` lines, read to its end by a router run that has stopped since."""
    log = tmp_path / "tracking.log"
    log.write_text("".join(line(i) for i in range(count)))
    journal = SqliteJournal(tmp_path / "j.db")
    follow_until(log, journal, count)
    return log, journal
