"""Settle one batch for one consumer: send, retry transient failures, split rejections, dead-letter.

Shared by the live delivery loop (`delivery.consumer.Delivery`) and by `backfill`, so a historic
replay gets exactly the same guarantees as live traffic: a transient failure (connection error,
timeout, 429, 5xx) is retried with backoff until it succeeds, a rejected batch is halved until the
offending items are isolated and dead-lettered, and a duplicate counts as delivered.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from event_router.delivery.backoff import backoff
from event_router.delivery.stats import State, Stats
from event_router.sinks.base import Sink
from event_router.sinks.outcome import Outcome, Verdict

log = logging.getLogger(__name__)
SPLIT_AFTER = 5  # transient failures of a multi-item batch before it is split


@dataclass(slots=True)
class Item:
    """One payload to send, and the journal entry (or input line, for backfill) it came from.

    Not frozen (one is made per payload per consumer, and a frozen init costs twice as much);
    nothing changes an item once made."""

    seq: int
    name: str
    payload: bytes
    ingested_at: float


DeadLetter = Callable[[Item, Outcome], Awaitable[None]]
# Called when the endpoint refuses our credentials or configuration; returns when it is worth
# trying again, or raises to give up on the batch.
Paused = Callable[[Outcome], Awaitable[None]]


class Sender:
    """Delivers batches to one sink until each item has a terminal outcome.

    `stopping` aborts a retry wait (the batch is then left unsettled: `asyncio.CancelledError`);
    `paused` decides what a PAUSE verdict (401, 403, ...) means for the caller.
    """

    def __init__(
        self,
        name: str,
        sink: Sink,
        dead_letter: DeadLetter,
        stats: Stats,
        stopping: asyncio.Event,
        paused: Paused,
    ) -> None:
        self.name = name
        self.sink = sink
        self.dead_letter = dead_letter
        self.stats = stats
        self._stopping = stopping
        self._paused = paused

    async def deliver(self, items: list[Item]) -> None:
        """Settle every item: delivered, duplicate, or dead letter. Never gives up on transient."""
        if not items:
            return
        self.stats.in_flight += len(items)
        try:
            outcome = await self.send(items)
        finally:
            self.stats.in_flight -= len(items)
        if outcome.verdict is Verdict.RETRY:  # gave up on the whole batch: look for a culprit
            await self._halves(items)
            return
        if outcome.verdict is Verdict.DELIVERED or (
            outcome.verdict is Verdict.DUPLICATE and len(items) == 1
        ):
            self._delivered(items)
            return
        if len(items) > 1:  # REJECTED or DUPLICATE: find the offending items
            await self._halves(items)
            return
        (item,) = items
        await self.dead_letter(item, outcome)
        self.stats.dead_letters += 1
        self.stats.error(f"dead letter (HTTP {outcome.status}): {outcome.detail[:200]}")

    async def _halves(self, items: list[Item]) -> None:
        middle = len(items) // 2
        await self.deliver(items[:middle])
        await self.deliver(items[middle:])

    def _delivered(self, items: list[Item]) -> None:
        now = time.time()
        self.stats.delivered += len(items)
        self.stats.last_delivery_at = now
        self.stats.latencies.record(now, [item.ingested_at for item in items])

    async def send(self, items: list[Item]) -> Outcome:
        """Send until a terminal answer; transient failures retry forever with backoff.

        A batch of several items that keeps failing transiently is handed back as RETRY after
        `SPLIT_AFTER` tries, so `deliver` can split it: some endpoints answer 5xx to one bad
        statement (Ralph does, for a malformed mbox), and that must not hold up the others.
        """
        attempt = 0
        payloads = [item.payload for item in items]
        while True:
            outcome = await self.sink.send(payloads)
            if outcome.verdict not in (Verdict.RETRY, Verdict.PAUSE):
                if self.stats.state in (State.RETRYING, State.PAUSED):
                    self.stats.state = State.RUNNING
                return outcome
            attempt += 1
            self.stats.error(describe(outcome))
            if outcome.verdict is Verdict.PAUSE:
                self.stats.state = State.PAUSED
                log.warning("%s paused: %s", self.name, describe(outcome))
                await self._paused(outcome)
                if self._stopping.is_set():
                    raise asyncio.CancelledError
                continue
            self.stats.state = State.RETRYING
            self.stats.retries += 1
            if len(items) > 1 and attempt >= SPLIT_AFTER:
                return outcome
            delay = backoff(attempt, retry_after=outcome.retry_after)
            try:
                await asyncio.wait_for(self._stopping.wait(), delay)
            except TimeoutError:
                continue
            raise asyncio.CancelledError  # stopping: leave the batch for the next run


def describe(outcome: Outcome) -> str:
    status = f"HTTP {outcome.status}" if outcome.status else "no answer"
    return f"{outcome.verdict.value}: {status} {outcome.detail[:300]}".strip()
