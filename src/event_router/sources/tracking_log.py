"""Follow a tracking log live (`tail -F` semantics) and append its events to the journal.

The position (the file, see `rotation`, and the byte offset of the next unread line) is
committed in the same journal transaction as the events it covers, so a crash neither loses nor
repeats a line. Rotation (the path now names a new file) is handled by finishing the old file
first, also after rotations while stopped, compressed or not; truncation restarts at the top; a
path that does not exist yet is waited for. A `.gz` path is read whole, resumably by line count.
Malformed lines are counted and logged with their location and skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import Counter, deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from event_router.gunzip import GzipError
from event_router.journal import Journal, JournalFull
from event_router.reading import open_file, whole_lines
from event_router.sources.intake import Intake
from event_router.sources.rotation import (
    HEAD,
    digest,
    first_line,
    identify,
    is_packed,
    newer,
    open_log,
    siblings,
)
from event_router.translate.workers import Prepared

log = logging.getLogger(__name__)
_CHUNK = 1 << 20
_AHEAD = 3  # chunks being prepared while the oldest commits


class TrackingLogSource:
    """One tracking-log path, followed until `stop` is set."""

    def __init__(
        self, path: Path, journal: Journal, *, poll: float = 0.01, intake: Intake | None = None
    ) -> None:
        self.path = path.resolve()
        self.journal = journal
        self.intake = intake or Intake(journal)
        self.poll = poll
        self.source_id = f"file:{self.path}"
        self.counts: Counter[str] = Counter()
        self._stop = asyncio.Event()
        self._rotated: list[Path] = []  # rotated while stopped: read these before the log
        self._ahead: deque[tuple[asyncio.Task[Prepared], str, tuple[str, str]]] = deque()

    def _saved(self) -> dict[str, int]:
        saved = self.journal.position(self.source_id)
        return orjson.loads(saved) if saved else {}

    async def run(self, stop: asyncio.Event) -> None:
        self._stop = stop
        if self.path.suffix == ".gz":
            await self._read_gzip(stop)
            return
        handle, inode, offset, head, tail = self._resume(self._saved())
        pending = b""
        while not stop.is_set():
            if handle is None:
                following = self._rotated.pop(0) if self._rotated else self.path
                try:
                    handle, inode = open_log(following)  # kept open while following
                except FileNotFoundError:
                    await _sleep(stop, self.poll * 5)
                    continue
                offset, head, tail, pending = 0, None, b"", b""
            try:
                chunk = handle.read(_CHUNK)
            except (OSError, EOFError) as exc:  # a damaged compressed copy: on to the next file
                if not is_packed(Path(handle.name)):
                    raise
                self.counts["unreadable"] += 1
                log.error("%s: unreadable after offset %d (%s); going on", handle.name, offset, exc)
                handle.close()
                handle = None
                continue
            if chunk:
                lines, pending = whole_lines(pending + chunk)
                if lines:
                    offset += len(lines)
                    head = head or first_line(lines)  # read from the top: lines start there
                    tail = (tail + lines[-HEAD:])[-HEAD:]
                    await self._append(lines, _position(inode, offset, head, tail))
                continue
            # At the end: rotated, truncated, or just nothing new yet?
            if not await self._drain():
                break  # stopping while the journal refuses: those lines are read again
            st: os.stat_result | None
            try:
                st = os.stat(self.path)
            except FileNotFoundError:
                st = None
            if st is not None and st.st_ino != inode:
                if pending:  # the old file's last line, never to be finished by a newline
                    offset += len(pending)
                    head, tail = head or first_line(pending), (tail + pending)[-HEAD:]
                    await self._append(pending + b"\n", _position(inode, offset, head, tail))
                    if not await self._drain():
                        break
                handle.close()
                handle = None  # old file fully read: move to the new one
                continue
            if st is not None and st.st_size < offset + len(pending):
                handle.seek(0)
                offset, head, tail, pending = 0, None, b"", b""
                continue
            await _sleep(stop, self.poll)
        self._forget_ahead()
        if handle is not None:
            handle.close()

    def _resume(self, saved: dict[str, Any]) -> tuple[BinaryIO | None, int, int, str | None, bytes]:
        """The file to continue and where: the one we were reading when the router stopped.

        That is the log itself, unless logrotate moved it away meanwhile (and maybe compressed
        it) and started a new one: lines written to the old file after our offset are then read
        from it, and every copy rotated after it, before the new log. When that file cannot be
        recognised (see `rotation`), the log is read from its top: lines read before are
        delivered again with the same ids, which consumers take as duplicates."""
        if "inode" not in saved:
            return None, 0, 0, None, b""
        candidates = [self.path, *siblings(self.path)]
        for candidate in candidates:
            try:
                handle, inode = open_log(candidate)  # the reading loop closes it
            except OSError:
                continue
            try:
                found = identify(handle, saved, is_packed(candidate))
            except (OSError, EOFError):  # a damaged (or half-written) compressed copy
                found = None
            if found is not None:
                if candidate != self.path:
                    log.info("%s was rotated while stopped: finishing %s", self.path, candidate)
                    self._rotated = newer(candidates[1:], candidate)
                if not is_packed(candidate):  # (a compressed one was read up to there)
                    handle.seek(saved["offset"])
                return handle, inode, saved["offset"], *found
            handle.close()
        log.warning(
            "%s: the file read up to offset %s when the router stopped is gone, or is not the "
            "file at its inode any more; reading %s from its start (lines read before are sent "
            "again with the same ids)", self.path, saved.get("offset", 0), self.path,
        )  # fmt: skip
        return None, 0, 0, None, b""

    async def _append(self, data: bytes, position: dict[str, Any]) -> None:
        saved = (self.source_id, orjson.dumps(position).decode())
        await self._queue(data, f"{self.path}@{position['offset']}", saved)

    async def _queue(self, data: bytes, where: str, position: tuple[str, str]) -> None:
        """Start preparing `data` while earlier chunks commit; commits stay in reading order."""
        self._ahead.append((asyncio.create_task(self.intake.prepare(data)), where, position))
        if len(self._ahead) >= _AHEAD and not await self._commit_next():
            self._forget_ahead()

    async def _drain(self) -> bool:
        """Commit every chunk read so far; False if stopped while the journal refused one."""
        while self._ahead:
            if not await self._commit_next():
                self._forget_ahead()
                return False
        return True

    def _forget_ahead(self) -> None:
        """Drop chunks read but not committed (their position was not saved: read again)."""
        for task, _, _ in self._ahead:
            task.cancel()
        self._ahead.clear()

    async def _commit_next(self) -> bool:
        task, where, position = self._ahead.popleft()
        prepared = await task
        for _, reason in prepared.rejects:
            self.counts["rejected"] += 1
            if self.counts["rejected"] <= 100 or self.counts["rejected"] % 1000 == 0:
                log.warning("%s: rejected line near %s: %s", self.path, where, reason)
        while True:
            try:
                await self.intake.commit(prepared, position)
                break
            except JournalFull as exc:
                # Refuse to move on: the file keeps the events until the journal can take them.
                log.error("%s: journal refuses events (%s); retrying in 5 s", self.path, exc)
                self.counts["journal_full"] += 1
                await _sleep(self._stop, 5)
                if self._stop.is_set():
                    return False  # not committed: the position stays, these lines are read again
        self.counts["accepted"] += len(prepared.bodies)
        return True

    async def _read_gzip(self, stop: asyncio.Event) -> None:
        done = self._saved().get("lines", 0)
        opened = open_file(self.path)
        try:
            await self._read_members(opened.content, done, stop)
        finally:
            opened.close()

    async def _read_members(self, lines: Iterator[bytes], done: int, stop: asyncio.Event) -> None:
        number = 0
        batch: list[bytes] = []
        try:
            for line in lines:
                number += 1
                if number <= done:
                    continue
                batch.append(line)
                if len(batch) >= 5000:
                    await self._gzip_commit(batch, number)
                    batch = []
                    if stop.is_set():
                        self._forget_ahead()
                        return
        except GzipError as exc:
            # Every whole line before the damage is taken; what follows it cannot be read.
            self.counts["unreadable"] += 1
            log.error("%s: %s; the %d line(s) before it are read, nothing after", self.path, exc,
                      number)  # fmt: skip
        await self._gzip_commit(batch, number)
        if not await self._drain():
            return

    async def _gzip_commit(self, lines: list[bytes], number: int) -> None:
        position = (self.source_id, orjson.dumps({"lines": number}).decode())
        await self._queue(b"".join(lines), f"line {number}", position)


def _position(inode: int, offset: int, head: str, tail: bytes) -> dict[str, Any]:
    """What is saved with the events: the file (see `rotation.identify`) and the offset."""
    return {"inode": inode, "offset": offset, "head": head, "before": digest(tail)}


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
