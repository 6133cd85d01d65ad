"""Following a tracking log: live appends, partial lines, rotation, truncation, restart, gzip."""

from __future__ import annotations

import asyncio
import gzip
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson

from event_router.journal import SqliteJournal
from event_router.sources.tracking_log import TrackingLogSource


def line(i: int, prefix: str = "2023-05-23 13:53:13,461 INFO 20 [tracking] logger.py:41 - ") -> str:
    event = {"event_type": "play_video", "time": "2020-07-15T06:52:55+00:00", "event": {"i": i}}
    return prefix + orjson.dumps(event).decode() + "\n"


def seen(journal: SqliteJournal) -> list[int]:
    entries, _ = journal.read(0, 100_000)
    return [e.event.data["i"] for e in entries]


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


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


def test_follows_appends_and_waits_for_complete_lines(tmp_path: Path) -> None:
    log = tmp_path / "tracking.log"
    journal = SqliteJournal(tmp_path / "j.db")

    async def scenario() -> None:
        log.write_text(line(0) + line(1))
        await until(lambda: seen(journal) == [0, 1])
        text = line(2)
        with log.open("a") as handle:
            handle.write(text[:20])
            handle.flush()
            await asyncio.sleep(0.1)
            assert seen(journal) == [0, 1]  # half a line is not an event yet
            handle.write(text[20:])
        await until(lambda: seen(journal) == [0, 1, 2])

    follow(log, journal, scenario)
    journal.close()


def test_file_created_later_rotation_and_truncation(tmp_path: Path) -> None:
    log = tmp_path / "tracking.log"
    journal = SqliteJournal(tmp_path / "j.db")

    async def scenario() -> None:
        await asyncio.sleep(0.1)  # the file does not exist yet
        log.write_text(line(0))
        await until(lambda: seen(journal) == [0])
        with log.open("a") as handle:
            handle.write(line(1))
        os.rename(log, tmp_path / "tracking.log.1")  # logrotate: move, then a new file
        log.write_text(line(2))
        await until(lambda: seen(journal) == [0, 1, 2])
        log.write_text("")  # copytruncate: the same file emptied, then written again
        await asyncio.sleep(0.1)
        with log.open("a") as handle:
            handle.write(line(3))
        await until(lambda: seen(journal) == [0, 1, 2, 3])

    follow(log, journal, scenario)
    journal.close()


def test_restart_resumes_without_loss_or_repeat(tmp_path: Path) -> None:
    log = tmp_path / "tracking.log"
    log.write_text("".join(line(i) for i in range(5)))
    journal = SqliteJournal(tmp_path / "j.db")

    async def first() -> None:
        await until(lambda: len(seen(journal)) == 5)

    follow(log, journal, first)
    with log.open("a") as handle:
        handle.write("".join(line(i) for i in range(5, 8)))

    async def second() -> None:
        await until(lambda: len(seen(journal)) >= 8)
        await asyncio.sleep(0.1)

    follow(log, journal, second)
    assert seen(journal) == list(range(8))
    journal.close()


def test_malformed_lines_are_counted_and_skipped(tmp_path: Path) -> None:
    log = tmp_path / "tracking.log"
    log.write_text(line(0) + "garbage without json\n" + '{"name": "x", "time": \n' + line(1))
    journal = SqliteJournal(tmp_path / "j.db")
    source = TrackingLogSource(log, journal, poll=0.01)

    async def go() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(source.run(stop))
        await until(lambda: seen(journal) == [0, 1])
        stop.set()
        await task

    asyncio.run(go())
    assert source.counts["rejected"] == 2
    assert source.counts["accepted"] == 2
    journal.close()


def test_gzip_read_whole_and_resumable(tmp_path: Path) -> None:
    archive = tmp_path / "tracking.log.1.gz"
    with gzip.open(archive, "wt") as handle:
        handle.write("".join(line(i) for i in range(12)))
    journal = SqliteJournal(tmp_path / "j.db")
    for _ in range(2):  # the second run finds the checkpoint and adds nothing
        asyncio.run(TrackingLogSource(archive, journal).run(asyncio.Event()))
    assert seen(journal) == list(range(12))
    journal.close()
