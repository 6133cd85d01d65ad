"""Follow a tracking log live (`tail -F` semantics) and append its events to the journal.

The position (inode and byte offset of the next unread line) is committed in the same journal
transaction as the events it covers, so a crash neither loses nor repeats a line. Rotation (the
path now names a new file) is handled by finishing the old file first; truncation restarts at the
top; a path that does not exist yet is waited for. Gzipped files are read whole, resumably by
line count. Malformed lines are counted and logged with their location and skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import logging
import os
from collections import Counter, deque
from pathlib import Path
from typing import BinaryIO

import orjson

from event_router.delivery.workers import Prepared
from event_router.journal import Journal, JournalFull
from event_router.sources.intake import Intake

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
        self._ahead: deque[tuple[asyncio.Task[Prepared], str, tuple[str, str]]] = deque()

    def _saved(self) -> dict[str, int]:
        saved = self.journal.position(self.source_id)
        return orjson.loads(saved) if saved else {}

    async def run(self, stop: asyncio.Event) -> None:
        self._stop = stop
        if self.path.suffix == ".gz":
            await self._read_gzip(stop)
            return
        saved = self._saved()
        handle: BinaryIO | None = None
        inode = offset = 0
        pending = b""
        while not stop.is_set():
            if handle is None:
                try:
                    handle = open(self.path, "rb")  # noqa: SIM115  (kept open while following)
                except FileNotFoundError:
                    await _sleep(stop, self.poll * 5)
                    continue
                opened = os.fstat(handle.fileno())
                inode, offset = opened.st_ino, 0
                if saved.get("inode") == inode and saved.get("offset", 0) <= opened.st_size:
                    offset = saved["offset"]
                saved = {}
                handle.seek(offset)
                pending = b""
            chunk = handle.read(_CHUNK)
            if chunk:
                data = pending + chunk
                cut = data.rfind(b"\n") + 1
                pending = data[cut:]
                if cut:
                    offset += cut
                    await self._append(data[:cut], inode, offset)
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
                handle.close()
                handle = None  # old file fully read: move to the new one
                continue
            if st is not None and st.st_size < offset + len(pending):
                handle.seek(0)
                offset, pending = 0, b""
                continue
            await _sleep(stop, self.poll)
        self._forget_ahead()
        if handle is not None:
            handle.close()

    async def _append(self, data: bytes, inode: int, offset: int) -> None:
        position = (self.source_id, orjson.dumps({"inode": inode, "offset": offset}).decode())
        await self._queue(data, f"{self.path}@{offset}", position)

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
        number = 0
        batch: list[bytes] = []
        with gzip.open(self.path, "rb") as handle:
            for line in handle:
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
        await self._gzip_commit(batch, number)
        if not await self._drain():
            return

    async def _gzip_commit(self, lines: list[bytes], number: int) -> None:
        position = (self.source_id, orjson.dumps({"lines": number}).decode())
        await self._queue(b"".join(lines), f"line {number}", position)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
