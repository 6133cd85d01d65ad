"""One consumer's delivery loop: cursor → route → translate → batch → sink → outcome → cursor.

The cursor only moves over batches whose every item reached a terminal outcome (delivered,
duplicate, or dead letter), in journal order, and each move is committed before the next batch is
acknowledged, so a crash re-sends at most the batches in flight (same ids: the LRS ignores them).
Transient failures retry forever with backoff; a rejection is split until the offending items are
isolated and dead-lettered; an auth or configuration refusal pauses the consumer until an operator
changes something.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass

from event_router.delivery.backoff import backoff
from event_router.delivery.encoder import Encoder, Skip
from event_router.delivery.sender import DeadLetter, Item, Sender
from event_router.delivery.stats import State, Stats
from event_router.journal import JournalFull, SqliteJournal
from event_router.sinks.base import Sink
from event_router.sinks.outcome import Outcome

log = logging.getLogger(__name__)
__all__ = ["Batch", "DeadLetter", "Delivery", "Item"]


@dataclass(slots=True)
class Batch:
    items: list[Item]
    last_seq: int  # the cursor may move here once every item is settled (skipped ones included)


class Delivery:
    """Runs one consumer until `stop()`; `resume()` wakes it from a pause (config changed)."""

    def __init__(
        self,
        encoder: Encoder,
        sink: Sink,
        journal: SqliteJournal,
        dead_letter: DeadLetter,
        stats: Stats | None = None,
    ) -> None:
        self.encoder = encoder
        self.consumer = encoder.consumer
        self.sink = sink
        self.journal = journal
        self.dead_letter = dead_letter
        self.stats = stats or Stats()
        self._stopping = asyncio.Event()
        self._resume = asyncio.Event()
        self.sender = Sender(
            self.consumer.name, sink, dead_letter, self.stats, self._stopping, self._wait_resume
        )

    def stop(self) -> None:
        self._stopping.set()
        self._resume.set()

    def resume(self) -> None:
        self._resume.set()

    async def _wait_resume(self, outcome: Outcome) -> None:
        """A paused consumer waits for an operator's change (the engine calls `resume`)."""
        del outcome
        self._resume.clear()
        await self._resume.wait()

    async def run(self, start: int) -> None:
        """Deliver from the cursor `start` until stopped; returns after in-flight batches settle."""
        name = self.consumer.name
        flag = self.journal.listener()
        cursor = read_pos = start
        self.stats.cursor = cursor
        pipeline: deque[tuple[Batch, asyncio.Task[None]]] = deque()
        try:
            while not self._stopping.is_set():
                while pipeline and pipeline[0][1].done():
                    cursor = await self._settle(pipeline.popleft(), name)
                if len(pipeline) >= self.consumer.max_in_flight:
                    await asyncio.wait({pipeline[0][1]}, return_when=asyncio.FIRST_COMPLETED)
                    continue
                batch = await self._collect(read_pos, flag, idle=not pipeline)
                if batch is None:
                    if pipeline:
                        await asyncio.wait({pipeline[0][1]}, timeout=0.05)
                    continue
                read_pos = batch.last_seq
                task = asyncio.create_task(self.sender.deliver(batch.items))
                pipeline.append((batch, task))
            while pipeline:
                cursor = await self._settle(pipeline.popleft(), name)
        finally:
            for _, task in pipeline:
                task.cancel()
            await self.sink.close()
            self.stats.state = State.STOPPED
        log.debug("%s stopped at %d", name, cursor)

    async def _settle(self, done: tuple[Batch, asyncio.Task[None]], name: str) -> int:
        batch, task = done
        await task
        attempt = 0
        while True:  # the batch is delivered; only recording that may fail (a full disk)
            try:
                await self.journal.set_cursor(name, batch.last_seq)
                break
            except JournalFull as exc:
                attempt += 1
                self.stats.error(f"cannot record delivery progress: {exc}")
                try:
                    await asyncio.wait_for(self._stopping.wait(), backoff(attempt, cap=5.0))
                except TimeoutError:
                    continue
                raise asyncio.CancelledError from None  # stopping: re-sent after the restart
        self.stats.cursor = batch.last_seq
        return batch.last_seq

    async def _collect(self, after: int, flag: asyncio.Event, *, idle: bool) -> Batch | None:
        """Gather up to batch_size items after `after`, waiting at most `linger` to fill a batch."""
        size, linger = self.consumer.batch_size, self.consumer.linger
        items: list[Item] = []
        last = after
        deadline: float | None = None
        while True:
            flag.clear()
            entries, unreadable = self.journal.read(last, size)
            for seq, reason in unreadable:
                self.stats.skip(f"unreadable journal entry: {reason}", translation_failed=True)
                last = max(last, seq)
            for entry, encoded in zip(entries, await self.encoder.encode_all(entries), strict=True):
                if isinstance(encoded, Skip):
                    self.stats.skip(encoded.reason, translation_failed=encoded.translation_failed)
                else:
                    name = entry.name
                    items.extend(Item(entry.seq, name, p, entry.ingested_at) for p in encoded)
                self.stats.events += 1
                last = entry.seq
                if len(items) >= size:
                    return Batch(items, last)
            if entries and len(entries) == size:
                continue  # more may already be waiting
            if items and linger <= 0:
                return Batch(items, last)
            if not items:
                if last > after:
                    return Batch([], last)  # only skipped events: the cursor still moves
                if self._stopping.is_set():
                    return None
                timeout = 1.0 if idle else 0.05
            else:
                now = time.monotonic()
                deadline = deadline or now + linger
                timeout = deadline - now
                if timeout <= 0:
                    return Batch(items, last)
            try:
                await asyncio.wait_for(flag.wait(), timeout)
            except TimeoutError:
                if not items:
                    return None
