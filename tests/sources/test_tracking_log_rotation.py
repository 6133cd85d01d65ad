"""Logs rotated and compressed more than once while the router was stopped, and a file that only
looks like the one it was reading: nothing is skipped (reading again from the top is safe)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from tests.support.sources import follow_until, followed, line, seen


def compress(plain: Path, packed: Path, *members: str) -> None:
    """`gzip plain` as logrotate runs it (the copy keeps the time; the original goes), with
    `members` appended as further gzip members."""
    data = gzip.compress(plain.read_bytes()) + b"".join(gzip.compress(m.encode()) for m in members)
    packed.write_bytes(data)
    written = plain.stat().st_mtime_ns
    os.utime(packed, ns=(written, written))
    plain.unlink()


def test_dateext_rotations_compressed_while_stopped_are_read_oldest_first(
    tmp_path: Path,
) -> None:
    """The file we were reading, then a newer copy (two gzip members), then the log; an older
    copy read long ago is left alone."""
    log, journal = followed(tmp_path, 1)
    with log.open("a") as handle:
        handle.write(line(1))
    os.utime(log, ns=(10**18, 10**18))
    os.rename(log, tmp_path / "tracking.log-20261204")
    compress(tmp_path / "tracking.log-20261204", tmp_path / "tracking.log-20261204.gz")
    log.write_text(line(2))
    os.utime(log, ns=(2 * 10**18, 2 * 10**18))
    os.rename(log, tmp_path / "tracking.log-20261205")
    compress(tmp_path / "tracking.log-20261205", tmp_path / "tracking.log-20261205.gz", line(3))
    log.write_text(line(4))
    old = tmp_path / "tracking.log-20261203.gz"
    old.write_bytes(gzip.compress(line(99).encode()))
    os.utime(old, (1, 1))

    follow_until(log, journal, 5)
    assert seen(journal) == [0, 1, 2, 3, 4]
    journal.close()


def test_a_file_that_starts_like_the_old_one_on_its_inode_is_read_from_the_top(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A new file on the old inode (a recycled inode, or rewritten in place) with the same
    first line and at least as long: it used to be resumed at the old offset, mid-way, and
    lines 10 and 11 were lost without a word. Now the bytes before the offset tell it apart;
    line 0 comes again (with the same id: a duplicate consumers ignore)."""
    log, journal = followed(tmp_path, 3)
    inode = log.stat().st_ino
    with log.open("r+") as handle:
        handle.truncate(0)
        handle.write(line(0) + "".join(line(i) for i in range(10, 14)))
    assert log.stat().st_ino == inode

    with caplog.at_level("WARNING"):
        follow_until(log, journal, 8)
    assert seen(journal) == [0, 1, 2, 0, 10, 11, 12, 13]
    assert "reading" in caplog.text and "from its start" in caplog.text
    journal.close()


def test_a_damaged_compressed_copy_is_reported_and_the_log_still_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A copy cut short (say, compressed when the disk filled up) is an error in the log and a
    count; the files after it are still read."""
    log, journal = followed(tmp_path, 1)
    with log.open("a") as handle:
        handle.write(line(1))
    os.rename(log, tmp_path / "tracking.log.1")
    compress(tmp_path / "tracking.log.1", tmp_path / "tracking.log.1.gz")
    packed = tmp_path / "tracking.log.1.gz"
    written = packed.stat().st_mtime_ns
    packed.write_bytes(packed.read_bytes()[:-12])  # no end of stream
    os.utime(packed, ns=(written, written))
    log.write_text(line(2))

    with caplog.at_level("ERROR"):
        follow_until(log, journal, 2)
    assert seen(journal)[-1] == 2
    assert "tracking.log.1.gz: unreadable" in caplog.text
    journal.close()
