"""Reading the journal from any position, for streams: subscribers hold nothing back.

A stream's subscribers come and go and resume from where they were (`Last-Event-ID`), so they read
the journal as it is: what it still retains, from a position they name. Only the SQLite journal
offers that so far (a Redis journal is read by consumer groups).
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from event_router.journal import Entry, SqliteJournal


class Tail(Protocol):
    """The journal as a stream reads it."""

    @property
    def head(self) -> int:
        """The newest seq."""
        ...

    def oldest(self) -> int:
        """The oldest seq still retained (head + 1 when the journal is empty)."""
        ...

    def listener(self) -> asyncio.Event:
        """Set whenever new events are committed (for the calling loop)."""
        ...

    def keep(self, consumer: str, seq: int) -> None:
        """Record that the stream is at `seq` (trimming goes by it and the retention window)."""
        ...

    async def read(self, after: int, limit: int) -> tuple[list[Entry], int | None]:
        """Up to `limit` readable entries after `after`, in order (unreadable ones left out),
        and the last seq the read covered (None: nothing after `after` yet)."""
        ...


class SqliteTail:
    """The SQLite journal: its in-memory tail for subscribers that keep up, the file beyond."""

    def __init__(self, journal: SqliteJournal) -> None:
        self.journal = journal

    @property
    def head(self) -> int:
        return self.journal.head

    def oldest(self) -> int:
        return self.journal.oldest()

    def listener(self) -> asyncio.Event:
        return self.journal.listener()

    def keep(self, consumer: str, seq: int) -> None:
        # The cursor of the stream's hub: near the head, so the journal is trimmed by retention
        # (a subscriber never holds it back). Not waited for: the next one comes a second later.
        self.journal.submit((), None, {consumer: seq})

    async def read(self, after: int, limit: int) -> tuple[list[Entry], int | None]:
        if self.journal.recent(after):  # in memory: no reason to leave the loop
            entries, unreadable = self.journal.read(after, limit)
        else:
            entries, unreadable = await asyncio.to_thread(self.journal.read, after, limit)
        last = max([e.seq for e in entries[-1:]] + [seq for seq, _ in unreadable], default=None)
        return entries, last
