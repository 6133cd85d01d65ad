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
from dataclasses import dataclass

from event_router.delivery.backoff import backoff, paused
from event_router.delivery.encoder import Encoder, Skip
from event_router.delivery.sender import DeadLetter, Item, More, Sender
from event_router.delivery.stats import State, Stats
from event_router.journal import JournalFull, SqliteJournal
from event_router.sinks.base import Sink
from event_router.sinks.outcome import Outcome

log = logging.getLogger(__name__)
READ_AHEAD = 2  # translated batches waiting for a free send slot
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
        """A paused consumer waits for an operator's change, or tries again a minute later."""
        del outcome
        await paused(self._resume)

    async def run(self, start: int) -> None:
        """Deliver from the cursor `start` until stopped; returns after in-flight batches settle.

        Three stages joined by bounded queues, so none waits on another's slow step: the reader
        translates the next batches while earlier ones are on the wire (translation workers
        never idle on a round trip or an fsync), the sender keeps up to `max_in_flight` requests
        out, and the settler records each batch's end as the cursor, strictly in journal order.
        """
        self.stats.cursor = start
        ready: asyncio.Queue[Batch] = asyncio.Queue(maxsize=READ_AHEAD)
        sent: asyncio.Queue[tuple[Batch, asyncio.Task[None]] | None] = asyncio.Queue()
        slots = asyncio.Semaphore(self.consumer.max_in_flight)
        reader = asyncio.create_task(self._read(start, ready), name=f"read:{self.consumer.name}")
        settler = asyncio.create_task(self._settle_all(sent, slots))
        stopping = asyncio.create_task(self._stopping.wait())
        in_flight: list[asyncio.Task[None]] = []
        try:
            while True:
                await slots.acquire()
                take = asyncio.create_task(ready.get())
                await asyncio.wait(
                    {take, stopping, reader, settler}, return_when=asyncio.FIRST_COMPLETED
                )
                if not take.done() or self._stopping.is_set() or settler.done():
                    take.cancel()  # a batch taken now is not sent: read again after a restart
                    slots.release()
                    break
                batch = take.result()
                task = asyncio.create_task(
                    self.sender.deliver(batch.items, self._more(batch, ready))
                )
                in_flight.append(task)
                sent.put_nowait((batch, task))
                in_flight = [t for t in in_flight if not t.done()]
            sent.put_nowait(None)  # the settler finishes what is in flight, then returns
            await settler
            if reader.done() and not reader.cancelled() and (error := reader.exception()):
                raise error
        finally:
            for stage in (reader, settler, stopping, *in_flight):
                stage.cancel()
            await asyncio.gather(reader, settler, stopping, *in_flight, return_exceptions=True)
            await self.sink.close()
            self.stats.state = State.STOPPED
        log.debug("%s stopped at %d", self.consumer.name, self.stats.cursor)

    def _more(self, batch: Batch, ready: asyncio.Queue[Batch]) -> More | None:
        """With one batch in flight, a lone item of `batch` with nothing after it to probe with
        (a batch of one, in a quiet moment) may take in the next batch read ahead: its items are
        settled with this batch, and the cursor then moves over both at once."""
        if self.consumer.max_in_flight != 1:
            return None  # the next batch may already be on the wire, and settle on its own

        async def more() -> list[Item]:
            try:
                following = ready.get_nowait()
            except asyncio.QueueEmpty:
                return []  # nothing read yet: no evidence this round
            batch.last_seq = following.last_seq
            return following.items

        return more

    async def _read(self, start: int, ready: asyncio.Queue[Batch]) -> None:
        """Collect and translate batches ahead of the sender, at most READ_AHEAD of them."""
        flag = self.journal.listener()
        read_pos = start
        while not self._stopping.is_set():
            batch = await self._collect(read_pos, flag)
            if batch is not None:
                read_pos = batch.last_seq
                await ready.put(batch)

    async def _settle_all(
        self, sent: asyncio.Queue[tuple[Batch, asyncio.Task[None]] | None], slots: asyncio.Semaphore
    ) -> None:
        """Move the cursor over each sent batch once it is settled, in the order they were sent."""
        while (done := await sent.get()) is not None:
            try:
                await self._settle(done)
            finally:
                slots.release()

    async def _settle(self, done: tuple[Batch, asyncio.Task[None]]) -> None:
        batch, task = done
        await task
        attempt = 0
        while True:  # the batch is delivered; only recording that may fail (a full disk)
            try:
                await self.journal.set_cursor(self.consumer.name, batch.last_seq)
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

    async def _collect(self, after: int, flag: asyncio.Event) -> Batch | None:
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
                timeout = 1.0
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
