"""One consumer's delivery as a member of its Redis consumer group (scale-out mode).

Each consumer is a consumer group on the journal stream and each router process a member of it,
so the processes share the consumer's work: XREADGROUP hands every entry to exactly one member.
A member translates with the same `Encoder` and settles with the same `Sender` (retry, split,
dead letter) as the SQLite path, and XACKs a batch's entries only after every item reached a
terminal outcome, so an entry leaves the group's pending list only once delivered.

Crash recovery: on start a member first re-reads its own pending entries (`XREADGROUP ... 0`,
for a member name that survives a restart); entries left pending by a member that died are taken
over with XAUTOCLAIM once idle longer than `claim_idle`. While a batch is being retried (an
endpoint down for hours), its entries are touched every `claim_idle / 3` (XCLAIM to ourselves,
JUSTID) so live members never steal work that is merely slow.

Order: several members send concurrently, and claimed entries arrive late, so order across the
stream is not kept in this mode (ids are deterministic: the endpoint still stores each once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from event_router.delivery.backoff import backoff, paused
from event_router.delivery.encoder import Encoder, Skip
from event_router.delivery.sender import Item, Sender
from event_router.delivery.stats import State, Stats
from event_router.journal.redis import RedisJournal, entry_seq, text, to_entry
from event_router.sinks.base import Sink
from event_router.sinks.outcome import Outcome

log = logging.getLogger(__name__)

# Called with the item, its event's body (None if unknown) and the endpoint's answer.
RecordDeadLetter = Callable[[Item, bytes | None, Outcome], Awaitable[None]]
Entries = list[tuple[Any, Any]]


@dataclass(slots=True)
class _Batch:
    items: list[Item]
    ids: list[str]  # every entry the batch settles (skipped ones included): XACKed together
    bodies: dict[int, bytes] = field(default_factory=dict)  # seq -> body, for dead letters


class GroupDelivery:
    """Runs one consumer's share of the work in this process until `stop()`."""

    def __init__(
        self,
        encoder: Encoder,
        sink: Sink,
        journal: RedisJournal,
        member: str,
        record_dead_letter: RecordDeadLetter,
        stats: Stats | None = None,
        counts: Counter[str] | None = None,
        *,
        claim_idle: float = 30.0,
        block: float = 1.0,
    ) -> None:
        self.encoder = encoder
        self.consumer = encoder.consumer
        self.group = self.consumer.name
        self.sink = sink
        self.journal = journal
        self.stream = journal.stream
        self.member = member
        self.stats = stats or Stats()
        self.claim_idle = claim_idle
        self.block = block
        # resumed (own pending re-read), claimed (from dead members), lost (trimmed before sent)
        self.counts: Counter[str] = counts if counts is not None else Counter()
        self._record = record_dead_letter
        self._held: set[str] = set()  # read and not yet acked: kept fresh against XAUTOCLAIM
        self._bodies: dict[int, bytes] = {}
        self._pending_after: str | None = "0"
        self._claim_start = "0-0"
        self._next_claim = 0.0
        self._stopping = asyncio.Event()
        self._resume = asyncio.Event()
        self.sender = Sender(
            self.group, sink, self._dead_letter, self.stats, self._stopping, self._wait_resume
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

    async def _dead_letter(self, item: Item, outcome: Outcome) -> None:
        await self._record(item, self._bodies.get(item.seq), outcome)

    # -- the loop --

    async def run(self) -> None:
        """Deliver until stopped; Redis outages are waited out (work in hand is re-read after)."""
        attempt = 0
        try:
            while not self._stopping.is_set():
                client = self.journal.async_client()
                try:
                    await self._deliver(client)
                    attempt = 0
                except (RedisError, OSError) as exc:
                    attempt += 1
                    self.stats.state = State.RETRYING
                    self.stats.error(f"journal unavailable: {exc}")
                    log.warning("%s: journal unavailable (%s); retrying", self.group, exc)
                    self._pending_after = "0"  # what we held is pending on us: read it again
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), backoff(attempt, cap=10))
                finally:
                    with contextlib.suppress(RedisError, OSError):
                        await client.aclose()
        finally:
            await self.sink.close()
            self.stats.state = State.STOPPED

    async def _deliver(self, client: aioredis.Redis) -> None:
        in_flight: dict[asyncio.Task[None], _Batch] = {}
        heartbeat = asyncio.create_task(self._heartbeat(client))
        try:
            while not self._stopping.is_set():
                for task in [t for t in in_flight if t.done()]:
                    await self._settle(client, task, in_flight.pop(task))
                if heartbeat.done():
                    await heartbeat  # raises what stopped it
                if len(in_flight) >= self.consumer.max_in_flight:
                    await asyncio.wait(set(in_flight), return_when=asyncio.FIRST_COMPLETED)
                    continue
                batch = await self._collect(client, idle=not in_flight)
                if batch is None:
                    if in_flight:
                        await asyncio.wait(set(in_flight), timeout=0.05)
                    continue
                if not batch.items:
                    await self._ack(client, batch)  # nothing for this consumer: settled already
                    continue
                task = asyncio.create_task(self.sender.deliver(batch.items))
                in_flight[task] = batch
            for task, batch in list(in_flight.items()):
                await self._settle(client, task, batch)
                del in_flight[task]
        finally:
            heartbeat.cancel()
            for task in in_flight:
                task.cancel()
            for task in [heartbeat, *in_flight]:
                with contextlib.suppress(BaseException):
                    await task
            for batch in in_flight.values():
                self._forget(batch)

    async def _settle(
        self, client: aioredis.Redis, task: asyncio.Task[None], batch: _Batch
    ) -> None:
        try:
            await task
        except asyncio.CancelledError:
            if not task.cancelled():
                raise  # we are being cancelled ourselves
            # Stopping during a retry wait: the entries stay pending on us (read again, or claimed).
            self._forget(batch)
            return
        await self._ack(client, batch)

    async def _ack(self, client: aioredis.Redis, batch: _Batch) -> None:
        if batch.ids:
            await client.xack(self.stream, self.group, *batch.ids)
            self.stats.cursor = max(self.stats.cursor, entry_seq(batch.ids[-1]))
        self._forget(batch)

    def _forget(self, batch: _Batch) -> None:
        self._held.difference_update(batch.ids)
        for seq in batch.bodies:
            self._bodies.pop(seq, None)

    async def _collect(self, client: aioredis.Redis, *, idle: bool) -> _Batch | None:
        """Up to batch_size items, waiting at most `linger` once the first has arrived."""
        size, linger = self.consumer.batch_size, self.consumer.linger
        batch = _Batch([], [])
        deadline: float | None = None
        while True:
            if batch.items:
                now = time.monotonic()
                deadline = deadline or now + linger
                if linger <= 0 or now >= deadline:
                    return batch
                block_ms = max(1, int((deadline - now) * 1000))
            else:
                block_ms = max(1, int(self.block * 1000)) if idle and not batch.ids else 20
            entries = await self._fetch(client, max(1, size - len(batch.items)), block_ms)
            if entries:
                await self._add(batch, entries)
                if len(batch.items) >= size:
                    return batch
                continue
            if batch.ids:
                return batch
            return None

    async def _add(self, batch: _Batch, entries: Entries) -> None:
        readable = []
        for raw_id, fields in entries:
            entry_id = text(raw_id)
            self._held.add(entry_id)
            batch.ids.append(entry_id)
            if fields:
                readable.append(to_entry(entry_id, fields))
            else:  # trimmed while pending on a member that died: nothing left to send
                self.counts["lost"] += 1
                self.stats.error(f"journal entry {entry_id} was trimmed before delivery")
                log.error("%s: entry %s was trimmed before delivery", self.group, entry_id)
        encoded = await self.encoder.encode_all(readable)
        for entry, result in zip(readable, encoded, strict=True):
            self.stats.events += 1
            if isinstance(result, Skip):
                self.stats.skip(result.reason, translation_failed=result.translation_failed)
                continue
            batch.bodies[entry.seq] = entry.body
            self._bodies[entry.seq] = entry.body
            batch.items.extend(Item(entry.seq, entry.name, p, entry.ingested_at) for p in result)

    async def _fetch(self, client: aioredis.Redis, count: int, block_ms: int) -> Entries:
        """Our own pending entries first, then idle ones of dead members, then new ones."""
        if self._pending_after is not None:
            reply = await client.xreadgroup(
                self.group, self.member, {self.stream: self._pending_after}, count=count
            )
            entries = _entries(reply)
            if entries:
                self._pending_after = text(entries[-1][0])
                fresh = [e for e in entries if text(e[0]) not in self._held]
                self.counts["resumed"] += len(fresh)
                return fresh
            self._pending_after = None
        if time.monotonic() >= self._next_claim:
            claimed = await self._claim(client, count)
            if claimed:
                return claimed
        reply = await client.xreadgroup(
            self.group, self.member, {self.stream: ">"}, count=count, block=block_ms
        )
        return _entries(reply)

    async def _claim(self, client: aioredis.Redis, count: int) -> Entries:
        """One XAUTOCLAIM step; a full pass over the pending list every `claim_idle / 2`."""
        reply: Any = await client.xautoclaim(
            self.stream,
            self.group,
            self.member,
            min_idle_time=int(self.claim_idle * 1000),
            start_id=self._claim_start,
            count=count,
        )
        self._claim_start = text(reply[0])
        if self._claim_start == "0-0":
            self._next_claim = time.monotonic() + self.claim_idle / 2
        deleted = [text(i) for i in reply[2]] if len(reply) > 2 else []
        if deleted:  # trimmed while pending: XAUTOCLAIM already dropped them from the list
            self.counts["lost"] += len(deleted)
            message = f"{len(deleted)} pending journal entries were trimmed before delivery"
            self.stats.error(message)
            log.error("%s: %s", self.group, message)
        entries = [e for e in reply[1] if text(e[0]) not in self._held]
        if entries:
            self.counts["claimed"] += len(entries)
            log.info("%s: claimed %d idle entries from other members", self.group, len(entries))
        return entries

    async def _heartbeat(self, client: aioredis.Redis) -> None:
        """Reset the idle time of everything we hold, so no live member's work is claimed."""
        while True:
            await asyncio.sleep(self.claim_idle / 3)
            held: list[Any] = list(self._held)
            for start in range(0, len(held), 1000):
                await client.xclaim(
                    self.stream, self.group, self.member, 0, held[start : start + 1000], justid=True
                )


def _entries(reply: Any) -> Entries:
    """The entries of a one-stream XREADGROUP reply (`[[stream, [(id, fields), ...]]]`)."""
    if not reply:
        return []
    if isinstance(reply, dict):  # RESP3 clients answer with a map
        return list(next(iter(reply.values()))[0])
    return list(reply[0][1])
