"""Reading the SQLite journal (one router process): a cursor per consumer.

A consumer's cursor is the seq of the newest event it has settled; acknowledging a batch moves
it there, durably, before the next batch is acknowledged. The journal keeps every event until
every enabled consumer's cursor has passed it (and the retention window); its file also holds
the engine's status snapshots (`StatusStore`: for `event-router status`, and figures that go on
after a restart) and the rewinds operators ask for (`RewindRequests`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from typing import Any

import orjson

from event_router.delivery.reader import Read
from event_router.delivery.rewind import RewindRequests
from event_router.delivery.stats import Stats
from event_router.delivery.status_store import StatusStore
from event_router.journal import SqliteJournal
from event_router.stream.tail import SqliteTail

log = logging.getLogger(__name__)


class CursorReader:
    """One consumer's cursor, read from `start` (its last acknowledged seq)."""

    def __init__(self, journal: SqliteJournal, consumer: str, start: int) -> None:
        self.journal = journal
        self.consumer = consumer
        self.position = start
        self._read_pos = start
        self._flag: asyncio.Event | None = None

    async def read(self, limit: int, wait: float) -> Read | None:
        if self._flag is None:
            self._flag = self.journal.listener()
        self._flag.clear()
        entries, unreadable = self.journal.read(self._read_pos, limit)
        if not entries and not unreadable and wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._flag.wait(), wait)
            self._flag.clear()
            entries, unreadable = self.journal.read(self._read_pos, limit)
        last = max([e.seq for e in entries] + [seq for seq, _ in unreadable], default=None)
        if last is None:
            return None
        self._read_pos = last
        return Read(entries, last, unreadable)

    async def ack(self, marks: list[Any]) -> None:
        if marks:
            last = max(marks)
            await self.journal.set_cursor(self.consumer, last)
            self.position = last

    def body(self, seq: int) -> bytes | None:
        return self.journal.body(seq)

    async def close(self) -> None:
        pass


class CursorReaders:
    """The SQLite journal's side of the engine."""

    def __init__(self, journal: SqliteJournal) -> None:
        self.journal = journal
        self.status = StatusStore(journal)
        self.requests = RewindRequests(journal)
        self.label = f"journal {journal.path}"
        self._last_trim = 0.0
        self._previous: dict[str, tuple[bytes, float]] | None = None  # last run's snapshots

    def tail(self) -> SqliteTail:
        """The journal as streams read it (from any position, no cursor)."""
        return SqliteTail(self.journal)

    async def reader(self, consumer: str, created: float) -> CursorReader:
        cursor = self.journal.cursor_at(consumer)
        if cursor is not None and cursor[1] < created:
            # Left by an earlier consumer of the same name, removed since: not this one's.
            log.info("%s is a new consumer: its name's old cursor is not used", consumer)
            cursor = None
        if cursor is None:
            # A new consumer receives what was accepted after it was created, even if the
            # router was not running then (or saw the consumer a second later).
            start = self.journal.seq_before(created)
            self.journal.submit((), None, {consumer: start}).result()
        else:
            start = cursor[0]
        log.info("delivering to %s from seq %d", consumer, start)
        return CursorReader(self.journal, consumer, start)

    def stats_for(self, consumer: str, created: float) -> Stats:
        """New figures for a consumer, going on from its last snapshot of an earlier run (not
        from one left by a removed consumer of the same name)."""
        if self._previous is None:
            self._previous = self.status.read()
        found = self._previous.pop(consumer, None)
        if found is None or found[1] < created:
            return Stats()
        return Stats.carried_over(orjson.loads(found[0]))

    async def rewinds(self) -> list[str]:
        try:
            return list(await asyncio.to_thread(self.requests.pending))
        except sqlite3.Error as exc:
            log.warning("cannot read rewind requests now: %s", exc)
            return []

    async def rewind(self, consumer: str) -> None:
        try:
            seq = await asyncio.to_thread(self.requests.apply, consumer)
        except sqlite3.Error as exc:  # a full disk, say: the request stays, tried again
            log.warning("cannot rewind %s now: %s", consumer, exc)
            return
        log.info("%s rewound by an operator: delivering again from seq %s", consumer, seq)

    @property
    def accepted(self) -> int:
        return self.journal.head

    def lag(self, consumer: str, stats: Stats, running: bool) -> int | None:
        # A running delivery's cursor is known, 0 included (nothing delivered yet on a new
        # journal: its whole backlog is lag); a consumer not running has none to show.
        return max(0, self.journal.head - stats.cursor) if running else None

    def behind(self, stats: Stats) -> int:
        return self.journal.head - stats.cursor

    def describe(self, consumer: str, snapshot: dict[str, Any]) -> None:
        pass

    async def observe(self, stats: dict[str, Stats], privacy: dict[str, int]) -> None:
        pass  # status (with the privacy row) is written by `housekeep`

    def learners_retired(self) -> None:
        """The journal's in-memory tail may hold events another process just redacted."""
        self.journal.drop_recent()

    async def lease(self) -> bool:
        return True  # one process: always this one

    async def housekeep(
        self, status: dict[str, bytes], enabled: list[str], retention: float
    ) -> None:
        try:
            # On a thread: a status write is a commit (an fsync), a trim may delete a minute
            # of events; neither may hold up the loop that ingests and sends.
            await asyncio.to_thread(self.housekeeping, status, enabled, retention)
        except sqlite3.Error as exc:  # a full disk: delivery goes on, retried next round
            log.warning("cannot write status or trim the journal: %s", exc)

    def housekeeping(self, status: dict[str, bytes], enabled: list[str], retention: float) -> None:
        """Write the status snapshots, and trim the journal once a minute. Runs on a thread: it
        gets what it needs from the loop, and reads nothing the loop changes."""
        if status:
            self.status.write(status)
        if time.time() - self._last_trim >= 60:
            self._last_trim = time.time()
            trimmed = self._trim(enabled, retention)
            if trimmed:
                log.info("trimmed %d journal events", trimmed)

    async def trim(self, enabled: list[str], retention: float) -> int:
        return await asyncio.to_thread(self._trim, enabled, retention)

    def _trim(self, enabled: list[str], retention: float) -> int:
        """Trim below every enabled consumer's cursor and the retention window (disabled
        consumers keep their events only for the retention window)."""
        cursors = self.journal.cursors()
        floors = [cursors.get(name, 0) for name in enabled]
        if not floors:
            return 0
        return self.journal.trim(min(floors), time.time() - retention)

    async def close(
        self, status: dict[str, bytes], stats: dict[str, Stats], privacy: dict[str, int]
    ) -> None:
        if status:
            self.status.write(status)
