"""Helpers of the source tests: bus events and a bus source run until a condition holds, the
LMS's events as the real producer emits them, and a tracking log followed by a router run."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

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


class Source(Protocol):
    """What the runner needs of a source (bus, Kafka, a Redis journal's reader)."""

    counts: Any

    async def run(self, stop: asyncio.Event) -> None: ...


def run_until(reader: Source, done: Callable[[], object], timeout: float = 60) -> None:
    """Run the source until `done()` holds, then stop it gracefully; fail if it ends first."""

    async def go() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(reader.run(stop))

        def finished() -> object:
            if task.done():
                task.result()
                raise AssertionError("source ended by itself")
            return done()

        try:
            await until(finished, timeout, lambda: f"counts {dict(reader.counts)}")
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)

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


def read_to_end(path: Path) -> bool:
    """Whether this process holds `path` open at exactly its end: a follower has read every byte
    written so far (a half line too), or has gone back to the start of a truncated file."""
    size, target = path.stat().st_size, str(path.resolve())
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") != target:
                continue
            info = Path(f"/proc/self/fdinfo/{fd}").read_text()
        except OSError:  # closed meanwhile
            continue
        if int(info.split("pos:", 1)[1].split()[0]) == size:
            return True
    return False


def idle(source: TrackingLogSource, path: Path) -> bool:
    """The follower has read `path` to its end and committed all it read: what it would add to
    the journal is in it (a positive signal, instead of waiting a while)."""
    return read_to_end(path) and not source._ahead


def follow(
    path: Path,
    journal: SqliteJournal,
    scenario: Callable[[TrackingLogSource], Awaitable[None]],
) -> None:
    """Run a follower of `path` (polling every 10 ms) while `scenario(follower)` runs."""

    async def go() -> None:
        stop = asyncio.Event()
        source = TrackingLogSource(path, journal, poll=0.01)
        task = asyncio.create_task(source.run(stop))
        try:
            await scenario(source)
        finally:
            stop.set()
            await task

    asyncio.run(go())


def follow_until(path: Path, journal: SqliteJournal, count: int) -> None:
    """Run the follower (as a router run would) until `count` events are in and it is idle at
    the end of `path`, so anything more it would add is in the journal too."""

    async def scenario(source: TrackingLogSource) -> None:
        await until(lambda: len(seen(journal)) >= count and idle(source, path))

    follow(path, journal, scenario)


def followed(tmp_path: Path, count: int) -> tuple[Path, SqliteJournal]:
    """A log of `count` lines, read to its end by a router run that has stopped since."""
    log = tmp_path / "tracking.log"
    log.write_text("".join(line(i) for i in range(count)))
    journal = SqliteJournal(tmp_path / "j.db")
    follow_until(log, journal, count)
    return log, journal
