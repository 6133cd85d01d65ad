"""The SQLite journal: ordered, durable appends with source positions; cursors; retention."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from event_router.journal import JournalFull, SqliteJournal
from tests.support.wait import until


def body(i: int) -> bytes:
    return orjson.dumps(
        {"name": "play_video", "timestamp": "2020-07-15T06:52:55+00:00", "data": {"i": i}}
    )


def test_appends_are_ordered_and_survive_reopen(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.db")

    async def go() -> list[tuple[int, int]]:
        futures = [journal.append([body(i), body(i + 1000)], ("src", str(i))) for i in range(50)]
        return await asyncio.gather(*futures)

    ranges = asyncio.run(go())
    assert ranges == [(2 * i + 1, 2 * i + 2) for i in range(50)]
    journal.close()
    again = SqliteJournal(tmp_path / "j.db")
    entries, bad = again.read(0, 1000)
    assert bad == []
    assert [e.seq for e in entries] == list(range(1, 101))
    assert [e.event.data["i"] for e in entries[:4]] == [0, 1000, 1, 1001]
    assert again.position("src") == "49"
    assert again.head == 100
    again.close()


def test_position_and_events_commit_together(tmp_path: Path) -> None:
    """A process killed right after an append returns has both the events and the position."""
    script = f"""
import asyncio, os, orjson
from pathlib import Path
from event_router.journal import SqliteJournal
j = SqliteJournal(Path({str(tmp_path / "j.db")!r}))
b = orjson.dumps({{"name": "x", "timestamp": "2020-01-01T00:00:00Z"}})
async def go():
    for i in range(20):
        await j.append([b] * 10, ("file", str((i + 1) * 10)))
    os.kill(os.getpid(), 9)
asyncio.run(go())
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert result.returncode == -9
    journal = SqliteJournal(tmp_path / "j.db")
    assert journal.head == 200
    assert journal.position("file") == "200"
    journal.close()


def test_cursors_only_move_forward(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.db")

    async def go() -> None:
        await journal.set_cursor("lrs", 10)
        await journal.set_cursor("lrs", 5)

    asyncio.run(go())
    assert journal.cursor("lrs") == 10
    assert journal.cursor("other") is None
    journal.close()


def test_reads_from_disk_when_not_in_memory(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.db")
    asyncio.run(journal.append([body(i) for i in range(10)]))
    journal.close()
    reopened = SqliteJournal(tmp_path / "j.db")  # empty in-memory tail
    entries, _ = reopened.read(3, 4)
    assert [e.seq for e in entries] == [4, 5, 6, 7]
    assert reopened.pending(3) == 7
    reopened.close()


def test_unreadable_body_is_reported_not_raised(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.db")
    asyncio.run(journal.append([b"not json", body(1)]))
    journal.close()
    reopened = SqliteJournal(tmp_path / "j.db")
    entries, bad = reopened.read(0, 10)
    assert [e.seq for e in entries] == [2]
    assert bad[0][0] == 1 and "not valid JSON" in bad[0][1]
    reopened.close()


def test_trim_keeps_what_consumers_have_not_passed(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.db")
    asyncio.run(journal.append([body(i) for i in range(10)]))
    assert journal.trim(below=4, older_than=time.time() - 3600) == 0  # inside retention
    assert journal.trim(below=4, older_than=time.time() + 1) == 4
    assert journal.size()[0] == 6
    asyncio.run(journal.append([body(99)]))
    assert journal.head == 11  # ids are never reused after a trim
    journal.close()


def test_write_failure_refuses_with_journal_full(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.db")
    asyncio.run(journal.append([body(1)]))
    guard = journal.connect()
    guard.execute(
        "CREATE TRIGGER full BEFORE INSERT ON events BEGIN "
        "SELECT RAISE(ABORT, 'database or disk is full'); END"
    )
    guard.close()
    with pytest.raises(JournalFull, match="disk is full"):
        asyncio.run(journal.append([body(2)]))
    assert journal.head == 1
    entries, _ = journal.read(0, 10)
    assert [e.seq for e in entries] == [1]
    journal.close()


def test_listener_is_woken_by_commits(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.db")

    async def go() -> bool:
        flag = journal.listener()
        flag.clear()
        await journal.append([body(1)])
        await asyncio.wait_for(flag.wait(), 10)
        return flag.is_set()

    assert asyncio.run(go())
    journal.close()


def test_a_burst_of_appends_is_grouped_into_few_commits(tmp_path: Path) -> None:
    """Group commit: appends queued while a commit is on disk share the next one (one fsync)."""
    journal = SqliteJournal(tmp_path / "j.db")
    futures = [journal.submit([body(i)], ("src", str(i))) for i in range(500)]
    ranges = [f.result() for f in futures]
    assert ranges == [(i + 1, i + 1) for i in range(500)]  # each its own seq, in order
    assert journal.position("src") == "499"
    assert journal.commits < 100, journal.commits
    journal.close()


def test_a_write_whose_caller_gave_up_does_not_stop_the_writer(tmp_path: Path) -> None:
    """A delivery stopped while recording its cursor cancels the wait; the writer must skip that
    write, not die resolving its future (every later append would then wait forever)."""
    journal = SqliteJournal(tmp_path / "j.db")
    guard = journal.connect()
    guard.execute("BEGIN IMMEDIATE")  # the writer's next commit waits for this lock

    async def go() -> tuple[int, int]:
        first = asyncio.wrap_future(journal.submit([body(1)]))  # what `append` awaits
        # the writer has taken it (the queue is empty again) and waits for the lock
        await until(lambda: journal._queue.empty(), 10, "the writer took nothing")
        given_up = asyncio.ensure_future(journal.set_cursor("lrs", 1))
        await until(lambda: not journal._queue.empty(), 10, "the cursor move is not queued")
        given_up.cancel()
        guard.execute("COMMIT")
        assert await first == (1, 1)
        return await asyncio.wait_for(journal.append([body(2)]), 5)

    try:
        assert asyncio.run(go()) == (2, 2)
        assert journal.cursor("lrs") is None  # the abandoned cursor move was not written
    finally:
        guard.close()
        journal.close()
