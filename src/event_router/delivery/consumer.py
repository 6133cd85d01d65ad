"""One consumer's delivery loop: read → route → translate → batch → sink → outcome → acknowledge.

Written once for every journal: it reads through a `delivery.reader.Reader` (a SQLite cursor, a
Redis consumer group member, ...). A batch is acknowledged only once its every item reached a
terminal outcome (delivered, duplicate, or dead letter), in the order batches were read, and each
acknowledgement is recorded before the next, so a crash re-sends at most the batches in flight
(same ids: the LRS ignores them). Transient failures retry forever with backoff; a rejection is
split until the offending items are isolated and dead-lettered; an auth or configuration refusal
pauses the consumer until an operator changes something. A journal that cannot be read or
acknowledged for a while is waited out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from event_router.delivery.backoff import PAUSE_RETRY, backoff, paused
from event_router.delivery.encoder import Encoder, Skip
from event_router.delivery.reader import Read, Reader
from event_router.delivery.sender import DeadLetter, FollowingItems, Item, Sender
from event_router.delivery.stats import State, Stats
from event_router.journal import JournalUnavailable
from event_router.sinks.base import Sink
from event_router.sinks.check import shown
from event_router.sinks.outcome import Outcome, Verdict
from event_router.translate.validate import invalid

log = logging.getLogger(__name__)
READ_AHEAD = 2  # translated batches waiting for a free send slot
BLOCK = 1.0  # seconds a read waits for new entries when there is nothing to send
__all__ = ["Batch", "DeadLetter", "Delivery", "Item"]


@dataclass(slots=True)
class Batch:
    items: list[Item]
    marks: list[Any] = field(default_factory=list)  # the reads it settles (skipped ones too)


class Delivery:
    """Runs one consumer until `stop()`; `resume()` wakes it from a pause (config changed)."""

    def __init__(
        self,
        encoder: Encoder,
        sink: Sink,
        reader: Reader,
        dead_letter: DeadLetter,
        stats: Stats | None = None,
    ) -> None:
        self.encoder = encoder
        self.consumer = encoder.consumer
        self.sink = sink
        self.reader = reader
        self.dead_letter = dead_letter
        self.stats = stats or Stats()
        self._stopping = asyncio.Event()
        self._resume = asyncio.Event()
        protocol = self.consumer.protocol.value
        self._validate = protocol if self.consumer.validate_items and protocol != "edx" else None
        self.sender = Sender(
            self.consumer.name, sink, dead_letter, self.stats, self._stopping, self._wait_resume
        )
        consumer = self.consumer
        self.stats.attempts.mask = lambda status, text: shown(consumer, status, text)

    def stop(self) -> None:
        self._stopping.set()
        self._resume.set()

    def resume(self) -> None:
        self._resume.set()

    def retry_now(self) -> bool:
        """An operator's "retry now": a paused or backing-off delivery tries at once; whether
        it was waiting to."""
        waiting = self.stats.attempts.next_retry_at is not None
        self._resume.set()
        self.sender.retry.set()
        return waiting

    async def _wait_resume(self, outcome: Outcome) -> None:
        """A paused consumer waits for an operator's change, or tries again a minute later."""
        del outcome
        self.stats.attempts.waiting(PAUSE_RETRY)
        try:
            await paused(self._resume)
        finally:
            self.stats.attempts.retrying()

    async def run(self) -> None:
        """Deliver until stopped; returns after in-flight batches settle.

        Three stages joined by bounded queues, so none waits on another's slow step: the reader
        translates the next batches while earlier ones are on the wire (translation workers
        never idle on a round trip or an fsync), the sender keeps up to `max_in_flight` requests
        out, and the settler acknowledges each batch, strictly in the order they were read.
        """
        self.stats.cursor = self.reader.position
        ready: asyncio.Queue[Batch] = asyncio.Queue(maxsize=READ_AHEAD)
        sent: asyncio.Queue[tuple[Batch, asyncio.Task[None]] | None] = asyncio.Queue()
        slots = asyncio.Semaphore(self.consumer.max_in_flight)
        reader = asyncio.create_task(self._read(ready), name=f"read:{self.consumer.name}")
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
            await self.reader.close()
            self.stats.state = State.STOPPED
        log.debug("%s stopped at %d", self.consumer.name, self.stats.cursor)

    def _more(self, batch: Batch, ready: asyncio.Queue[Batch]) -> FollowingItems | None:
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
            batch.marks.extend(following.marks)
            return following.items

        return more

    async def _read(self, ready: asyncio.Queue[Batch]) -> None:
        """Collect and translate batches ahead of the sender, at most READ_AHEAD of them; a
        journal that cannot be read is tried again with backoff."""
        attempt = 0
        while not self._stopping.is_set():
            try:
                batch = await self._collect()
            except JournalUnavailable as exc:
                attempt += 1
                self.stats.state = State.RETRYING
                self.stats.error(f"journal unavailable: {exc}")
                log.warning("%s: journal unavailable (%s); retrying", self.consumer.name, exc)
                await self._pause(backoff(attempt, cap=10.0))
                continue
            attempt = 0
            if batch is not None:
                await ready.put(batch)

    async def _pause(self, seconds: float) -> bool:
        """Wait `seconds` unless stopping; whether we are stopping."""
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def _settle_all(
        self, sent: asyncio.Queue[tuple[Batch, asyncio.Task[None]] | None], slots: asyncio.Semaphore
    ) -> None:
        """Acknowledge each sent batch once it is settled, in the order they were sent."""
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
                await self.reader.ack(batch.marks)
                break
            except JournalUnavailable as exc:
                attempt += 1
                self.stats.error(f"cannot record delivery progress: {exc}")
                if await self._pause(backoff(attempt, cap=5.0)):
                    raise asyncio.CancelledError from None  # stopping: re-sent after the restart
        self.stats.cursor = self.reader.position

    async def _collect(self) -> Batch | None:
        """Gather up to batch_size items, waiting at most `linger` to fill a batch once the first
        is in; None when nothing came within a second."""
        size, linger = self.consumer.batch_size, self.consumer.linger
        batch = Batch([])
        deadline: float | None = None
        full = False  # the last read was cut at its limit: more may already be waiting
        while True:
            if full:
                wait = 0.0
            elif batch.items:
                now = time.monotonic()
                deadline = deadline or now + linger
                if linger <= 0 or now >= deadline:
                    return batch
                wait = deadline - now
            elif batch.marks:
                return batch  # only skipped events: the batch still settles them
            elif self._stopping.is_set():
                return None
            else:
                wait = BLOCK
            limit = max(1, size - len(batch.items))
            read = await self.reader.read(limit, wait)
            if read is None:
                if full:
                    full = False
                    continue
                return batch if batch.marks else None
            full = len(read.entries) + len(read.unreadable) >= limit
            await self._add(batch, read)
            if len(batch.items) >= size:
                return batch

    async def _add(self, batch: Batch, read: Read) -> None:
        """Translate what `read` found into `batch`'s items; report what cannot be sent."""
        batch.marks.append(read.mark)
        for problem in read.problems:
            self.stats.error(problem)
            log.error("%s: %s", self.consumer.name, problem)
        for _seq, reason in read.unreadable:
            self.stats.skip(f"unreadable journal entry: {reason}", translation_failed=True)
        entries = read.entries
        for entry, encoded in zip(entries, await self.encoder.encode_all(entries), strict=True):
            self.stats.events += 1
            if isinstance(encoded, Skip):
                self.stats.skip(encoded.reason, translation_failed=encoded.translation_failed)
            else:
                if self._validate is not None:
                    encoded = await self._valid(entry.seq, entry.name, encoded)
                name = entry.name
                batch.items.extend(Item(entry.seq, name, p, entry.ingested_at) for p in encoded)

    async def _valid(self, seq: int, name: str, payloads: list[bytes]) -> list[bytes]:
        """The payloads that pass the protocol's rules; each other one is dead-lettered here,
        with the reasons, and never reaches the endpoint (`validate` consumers only)."""
        kept = []
        for payload in payloads:
            reasons = invalid(str(self._validate), payload)
            if not reasons:
                kept.append(payload)
                continue
            detail = f"invalid {self._validate} item, not sent: {'; '.join(reasons[:10])}"
            await self.dead_letter(Item(seq, name, payload, time.time()), _refused(detail))
            self.stats.dead_letters += 1
            self.stats.error(detail)
        return kept


def _refused(detail: str) -> Outcome:
    return Outcome(Verdict.REJECTED, None, detail)
