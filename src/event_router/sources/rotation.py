"""Which file a saved tracking-log position was taken on, after rotations while stopped.

logrotate moves the log away (`tracking.log.1`, or `tracking.log-20261205` with `dateext`),
starts a new one, and often compresses the old ones (`tracking.log.2.gz`). A position names its
file three ways: the inode, a digest of the first line, and a digest of the KiB just before the
offset. A plain file must match all three, so a new file on a recycled inode is not resumed in
the middle even when it starts like the old one; a compressed copy has a new inode and is
recognised by the two digests of its decompressed bytes.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, BinaryIO, cast

from event_router import reading

HEAD = 1024  # bytes that fingerprint a file's start, and the region before an offset


def open_log(path: Path) -> tuple[BinaryIO, int]:
    """A log or a rotated copy of it, as its (decompressed) bytes, and the inode opened; the
    caller closes it."""
    opened = reading.open_file(path, sniff=False)  # by name: the plain log is seeked in
    inode = os.fstat(opened.raw.fileno()).st_ino
    return cast(BinaryIO, opened.content), inode


def is_packed(path: Path) -> bool:
    return reading.is_gzip(path.name)


def siblings(path: Path) -> list[Path]:
    """The rotated copies of `path` in its directory, by name (compressed ones included)."""
    rotated = (path.name + ".", path.name + "-")  # tracking.log.1(.gz), tracking.log-2026…
    with contextlib.suppress(OSError), os.scandir(path.parent) as entries:
        return sorted(Path(e.path) for e in entries if e.name.startswith(rotated))
    return []


def digest(data: bytes) -> str:
    return reading.digest(data)[:16]


def first_line(start: bytes) -> str:
    """The digest of a file's first line (at most `HEAD` bytes), given its first bytes."""
    start = start[:HEAD]
    return digest(start[: start.find(b"\n") + 1 or HEAD])


def identify(handle: BinaryIO, saved: dict[str, Any], packed: bool) -> tuple[str, bytes] | None:
    """If `handle` (just opened) is the file `saved` was taken on: its first-line digest and
    the bytes before the saved offset; a compressed file is then read up to that offset, a plain
    one not moved. Positions saved by older versions lack the digests; they are checked on what
    they have, as they were then (and cannot name a compressed copy)."""
    offset = saved.get("offset", 0)
    size = min(HEAD, offset)
    if packed:
        if "head" not in saved:
            return None
        start = handle.read(size)  # a line ends before the offset: the first one is in here
        if first_line(start) != saved["head"]:
            return None  # decided on the first KiB: not inflated further
        tail = _skim(handle, start, offset)
    else:
        st = os.fstat(handle.fileno())
        if st.st_ino != saved["inode"] or st.st_size < offset:
            return None
        start = os.pread(handle.fileno(), HEAD, 0)
        tail = os.pread(handle.fileno(), size, offset - size)
    head = first_line(start)
    if "head" in saved and head != saved["head"]:
        return None
    if len(tail) < size or ("before" in saved and digest(tail) != saved["before"]):
        return None  # shorter than the offset, or other bytes before it
    return head, tail


def _skim(stream: BinaryIO, start: bytes, offset: int) -> bytes:
    """Read `stream` (already read up to `len(start)`, those bytes being `start`) on to
    `offset`, keeping only the last `HEAD` bytes before it (returned; fewer if it ends first)."""
    kept, at = start, len(start)
    while at < offset:
        chunk = stream.read(min(1 << 20, offset - at))
        if not chunk:
            return b""
        kept, at = (kept + chunk)[-HEAD:], at + len(chunk)
    return kept


def newer(rotated: list[Path], resumed: Path) -> list[Path]:
    """The copies written after `resumed`, oldest first (the log was rotated more than once
    while the router was stopped): each is read whole before the log itself. gzip keeps a
    file's modification time, so compressed copies sort among the others."""

    def written(path: Path) -> int:
        try:
            return path.stat().st_mtime_ns
        except OSError:
            return -1  # gone since the directory was listed

    since = written(resumed)
    return sorted((p for p in rotated if p != resumed and written(p) > since), key=written)
