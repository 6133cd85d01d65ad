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
from collections import Counter
from pathlib import Path
from typing import BinaryIO

import orjson

from event_router.events import NormaliseError, TrackingEvent, line_json, parse_json
from event_router.journal import Journal, JournalFull

log = logging.getLogger(__name__)
_CHUNK = 1 << 20


class TrackingLogSource:
    """One tracking-log path, followed until `stop` is set."""

    def __init__(self, path: Path, journal: Journal, *, poll: float = 0.02) -> None:
        self.path = path.resolve()
        self.journal = journal
        self.poll = poll
        self.source_id = f"file:{self.path}"
        self.counts: Counter[str] = Counter()
        self._stop = asyncio.Event()

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
        if handle is not None:
            handle.close()

    async def _append(self, data: bytes, inode: int, offset: int) -> None:
        bodies, events = self._parse(data.splitlines(), f"{self.path}@{offset}")
        position = (self.source_id, orjson.dumps({"inode": inode, "offset": offset}).decode())
        await self._commit(bodies, events, position)

    def _parse(self, lines: list[bytes], where: str) -> tuple[list[bytes], list[TrackingEvent]]:
        bodies, events = [], []
        for line in lines:
            if not line.strip():
                continue
            try:
                body = line_json(line)
                events.append(parse_json(body))
                bodies.append(body)
            except NormaliseError as exc:
                self.counts["rejected"] += 1
                if self.counts["rejected"] <= 100 or self.counts["rejected"] % 1000 == 0:
                    log.warning("%s: rejected line near %s: %s", self.path, where, exc)
        self.counts["accepted"] += len(bodies)
        return bodies, events

    async def _commit(
        self, bodies: list[bytes], events: list[TrackingEvent], position: tuple[str, str]
    ) -> None:
        while True:
            try:
                await self.journal.append(bodies, position, events)
                return
            except JournalFull as exc:
                # Refuse to move on: the file keeps the events until the journal can take them.
                log.error("%s: journal refuses events (%s); retrying in 5 s", self.path, exc)
                self.counts["journal_full"] += 1
                await _sleep(self._stop, 5)
                if self._stop.is_set():
                    return  # not committed: the position stays, these lines are read again

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
                        return
        await self._gzip_commit(batch, number)

    async def _gzip_commit(self, lines: list[bytes], number: int) -> None:
        bodies, events = self._parse(lines, f"line {number}")
        position = (self.source_id, orjson.dumps({"lines": number}).decode())
        await self._commit(bodies, events, position)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
