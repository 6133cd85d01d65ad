"""Following a tracking log: live appends, partial lines, rotation, truncation, restart, gzip."""

from __future__ import annotations

import asyncio
import gzip
import os
from pathlib import Path

import orjson
import pytest

from event_router.journal import SqliteJournal
from event_router.sources.tracking_log import TrackingLogSource
from tests.support.sources import follow, follow_until, followed, idle, line, read_to_end, seen
from tests.support.wait import until


def test_follows_appends_and_waits_for_complete_lines(tmp_path: Path) -> None:
    log = tmp_path / "tracking.log"
    journal = SqliteJournal(tmp_path / "j.db")

    async def scenario(source: TrackingLogSource) -> None:
        log.write_text(line(0) + line(1))
        await until(lambda: seen(journal) == [0, 1])
        text = line(2)
        with log.open("a") as handle:
            handle.write(text[:20])
            handle.flush()
            await until(lambda: idle(source, log))  # the half line read
            assert seen(journal) == [0, 1]  # half a line is not an event yet
            handle.write(text[20:])
        await until(lambda: seen(journal) == [0, 1, 2])

    follow(log, journal, scenario)
    journal.close()


def test_file_created_later_rotation_and_truncation(tmp_path: Path) -> None:
    log = tmp_path / "tracking.log"
    journal = SqliteJournal(tmp_path / "j.db")

    async def scenario(source: TrackingLogSource) -> None:
        # The follower starts first: it looks for the file, does not find it, and waits.
        await asyncio.sleep(0)  # a turn of the event loop, not a timed wait
        log.write_text(line(0))
        await until(lambda: seen(journal) == [0])
        with log.open("a") as handle:
            handle.write(line(1))
        os.rename(log, tmp_path / "tracking.log.1")  # logrotate: move, then a new file
        log.write_text(line(2))
        await until(lambda: seen(journal) == [0, 1, 2])
        log.write_text("")  # copytruncate: the same file emptied, then written again
        await until(lambda: read_to_end(log))  # back at the start of the empty file
        with log.open("a") as handle:
            handle.write(line(3))
        await until(lambda: seen(journal) == [0, 1, 2, 3])

    follow(log, journal, scenario)
    journal.close()


def test_a_rotated_file_s_unterminated_last_line_is_kept(tmp_path: Path) -> None:
    log = tmp_path / "tracking.log"
    journal = SqliteJournal(tmp_path / "j.db")

    async def scenario(source: TrackingLogSource) -> None:
        log.write_text(line(0) + line(1).rstrip("\n"))  # the writer died mid-way: no newline
        await until(lambda: seen(journal) == [0])
        os.rename(log, tmp_path / "tracking.log.1")
        log.write_text(line(2))
        await until(lambda: seen(journal) == [0, 1, 2])

    follow(log, journal, scenario)
    journal.close()


def test_restart_resumes_without_loss_or_repeat(tmp_path: Path) -> None:
    log, journal = followed(tmp_path, 5)
    with log.open("a") as handle:
        handle.write("".join(line(i) for i in range(5, 8)))

    follow_until(log, journal, 8)
    assert seen(journal) == list(range(8))
    journal.close()


def test_rotation_while_stopped_finishes_the_old_file(tmp_path: Path) -> None:
    """Lines written after the router stopped, then rotated away, are read from the old file."""
    log, journal = followed(tmp_path, 3)
    with log.open("a") as handle:
        handle.write(line(3) + line(4))
    os.rename(log, tmp_path / "tracking.log-20261205")  # logrotate's dateext naming
    log.write_text(line(5))

    follow_until(log, journal, 6)
    assert seen(journal) == list(range(6))
    journal.close()


def test_two_rotations_while_stopped_are_read_in_order(tmp_path: Path) -> None:
    """The file we were reading is now tracking.log.2; tracking.log.1 came after it, and the
    log after that: all three are read, in that order (the middle one was skipped silently)."""
    log, journal = followed(tmp_path, 1)
    with log.open("a") as handle:
        handle.write(line(1))
    os.rename(log, tmp_path / "tracking.log.1")  # first rotation
    log.write_text(line(2))
    os.rename(tmp_path / "tracking.log.1", tmp_path / "tracking.log.2")  # second rotation
    os.rename(log, tmp_path / "tracking.log.1")
    log.write_text(line(3))
    old = tmp_path / "tracking.log.3"  # an older rotation, read long ago: left alone
    old.write_text(line(99))
    os.utime(old, (1, 1))

    follow_until(log, journal, 4)
    assert seen(journal) == [0, 1, 2, 3]
    journal.close()


def test_rotated_and_compressed_while_stopped_is_read_from_the_copy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Line 1 is only in tracking.log.1.gz now: it used to be only named for a backfill."""
    log, journal = followed(tmp_path, 1)
    with log.open("a") as handle:
        handle.write(line(1))
    os.rename(log, tmp_path / "tracking.log.1")
    with gzip.open(tmp_path / "tracking.log.1.gz", "wb") as packed:  # compressed, then removed
        packed.write((tmp_path / "tracking.log.1").read_bytes())
    (tmp_path / "tracking.log.1").unlink()
    log.write_text(line(2))

    with caplog.at_level("WARNING"):
        follow_until(log, journal, 3)
    assert seen(journal) == [0, 1, 2]
    assert "WARNING" not in caplog.text
    journal.close()


def test_copytruncate_while_stopped_starts_the_rewritten_file_at_the_top(tmp_path: Path) -> None:
    """Same inode, new content longer than the old offset: not resumed in the middle."""
    log, journal = followed(tmp_path, 2)
    inode = log.stat().st_ino
    with log.open("r+") as handle:  # emptied in place, then written again
        handle.truncate(0)
        handle.write("".join(line(i, prefix="") for i in range(10, 14)))
    assert log.stat().st_ino == inode

    follow_until(log, journal, 6)
    assert seen(journal) == [0, 1, 10, 11, 12, 13]
    journal.close()


def test_a_position_saved_before_fingerprints_still_resumes(tmp_path: Path) -> None:
    log = tmp_path / "tracking.log"
    log.write_text(line(0) + line(1))
    journal = SqliteJournal(tmp_path / "j.db")
    first_line = len(line(0).encode())
    position = orjson.dumps({"inode": log.stat().st_ino, "offset": first_line}).decode()
    journal.submit((), (f"file:{log.resolve()}", position)).result()

    follow_until(log, journal, 1)
    assert seen(journal) == [1]
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


@pytest.mark.parametrize(
    ("tail", "unreadable"),
    [(b"", 0), (b"GARBAGE", 1), (gzip.compress(b"x" * 100)[:20], 1)],
    ids=["members-only", "trailing-garbage", "truncated-member"],
)
def test_gzip_reads_every_member_and_reports_what_follows(
    tmp_path: Path, tail: bytes, unreadable: int
) -> None:
    """`cat a.gz b.gz` (logrotate appends) holds both files' lines; bytes after the members
    that are not a member are reported and counted, and the router goes on. Before the fix
    the stdlib reader raised out of the source (the router stopped) on garbage or a torn end."""
    archive = tmp_path / "tracking.log.2.gz"
    first = "".join(line(i) for i in range(5)).encode()
    second = "".join(line(i) for i in range(5, 12)).encode()
    archive.write_bytes(gzip.compress(first) + gzip.compress(second) + tail)
    journal = SqliteJournal(tmp_path / "j.db")
    source = TrackingLogSource(archive, journal)
    asyncio.run(source.run(asyncio.Event()))
    assert seen(journal) == list(range(12))
    assert source.counts["unreadable"] == unreadable
    journal.close()
