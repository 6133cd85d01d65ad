"""Settle one batch for one consumer: send, retry transient failures, split rejections, dead-letter.

Shared by the live delivery loop (`delivery.consumer.Delivery`) and by `backfill`, so a historic
replay gets exactly the same guarantees as live traffic: a transient failure (connection error,
timeout, 429, 5xx) is retried with backoff until it succeeds, a rejected batch is halved until the
offending items are isolated and dead-lettered, and a duplicate counts as delivered. The one limit
on transient retries is a poison item: one the endpoint keeps answering a 5xx that blames the
request (Ralph answers 500 to some malformed statements: an account homePage that is not an IRI)
while it accepts other items of the same batch (`Sender._lone`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from event_router.delivery.backoff import backoff
from event_router.delivery.stats import State, Stats
from event_router.sinks.base import Sink
from event_router.sinks.outcome import Outcome, Verdict

log = logging.getLogger(__name__)
SPLIT_AFTER = 5  # transient failures before a batch is split, or before a lone item is judged
# 5xx that describe the endpoint's state (gateway, unavailable, gateway timeout), not the request:
# like a connection error, a timeout, 408 or 429, they never make an item poison.
ENDPOINT_STATE = frozenset({502, 503, 504})


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
# The items that come after a batch (the delivery's next batch, merged into this one; none if
# there is none yet): asked for when a lone item has nothing after it to probe with.
FollowingItems = Callable[[], Awaitable[list[Item]]]


@dataclass(slots=True)
class _Batch:
    """One `deliver` call: its items (parts are lists of positions), and what the endpoint did."""

    items: list[Item]
    more: FollowingItems | None = None
    done: set[int] = field(default_factory=set)  # positions settled ahead of their turn (probes)
    accepted: int = 0  # sends of this batch's items that the endpoint accepted


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
        self._accepted = 0  # sends the endpoint accepted, of any batch (others may be in flight)
        self.retry = asyncio.Event()  # set by an operator's "retry now": end a backoff at once

    async def deliver(self, items: list[Item], more: FollowingItems | None = None) -> None:
        """Settle every item: delivered, duplicate, or dead letter. `more` lets a lone item with
        nothing after it probe with what follows the batch (`_probe`); what it hands over is
        appended to `items` and settled here too.

        Items are delivered in batch order, except when the endpoint comes back or flaps while a
        stuck item is judged: the probe it accepted was sent ahead of that item (see `_lone`)."""
        batch, start = _Batch(items, more), 0
        while start < len(batch.items):  # then what probes brought in
            end = len(batch.items)
            await self._settle(batch, list(range(start, end)), None)
            start = end

    async def _settle(self, batch: _Batch, part: list[int], since: int | None) -> None:
        """Settle the items at positions `part`. `since` is `batch.accepted` when these items first
        failed transiently (None: not yet), so a lone item can tell whether others got through."""
        part = [p for p in part if p not in batch.done]
        if not part:
            return
        items = [batch.items[p] for p in part]
        self.stats.in_flight += len(items)
        try:
            if len(items) > 1:
                outcome: Outcome | None = await self.send(items, tries=SPLIT_AFTER)
            else:
                outcome = await self._lone(
                    batch, part[0], batch.accepted if since is None else since
                )
        finally:
            self.stats.in_flight -= len(items)
        if outcome is not None:
            await self._conclude(batch, part, outcome, since)

    async def _conclude(
        self, batch: _Batch, part: list[int], outcome: Outcome, since: int | None
    ) -> None:
        """Act on the answer to `part`: delivered, split to find the culprits, or dead letter."""
        if outcome.verdict is Verdict.DELIVERED or (
            outcome.verdict is Verdict.DUPLICATE and len(part) == 1
        ):
            # A 409 for one statement: the LRS has that id (identical, or from an older
            # translation it keeps); counted as delivered, and as a duplicate for operators.
            self.stats.duplicates += outcome.verdict is Verdict.DUPLICATE
            self._delivered(batch, [batch.items[p] for p in part])
        elif len(part) > 1:  # RETRY, REJECTED or DUPLICATE: halve it
            if since is None and outcome.verdict is Verdict.RETRY:
                since = batch.accepted
            middle = len(part) // 2
            await self._settle(batch, part[:middle], since)
            await self._settle(batch, part[middle:], since)
        else:
            message = f"dead letter (HTTP {outcome.status}): {outcome.detail[:200]}"
            await self._dead(batch.items[part[0]], outcome, message)

    async def _lone(self, batch: _Batch, pos: int, since: int) -> Outcome | None:
        """Send one item alone (a batch of one, or split off a larger batch); None if it became
        a dead letter as poison.

        Retrying forever is right for a sick endpoint and wrong for a poison item. The item is
        tried `SPLIT_AFTER` times a round, with backoff. It is judged only when a round ends on
        a 5xx other than 502, 503 and 504 (`blames_request`): then it looks for evidence that
        the endpoint is well: another item of the batch accepted since this one first failed, or
        of a batch in flight beside it, else a probe (`_probe`). With evidence, it waits the
        backoff and gets one last try (the endpoint may just have recovered); if that too is
        such a 5xx, it becomes a dead letter. Otherwise (another answer, no evidence) the
        endpoint is sick: the item retries, in order, without limit. Limits: a batch of one, or
        one whose every item fails, has no evidence but what follows it (`more`, given by a
        delivery with one batch in flight) or batches beside it, else it retries forever;
        evidence from an earlier half of the batch is trusted though it may be seconds old (or
        an item the endpoint already had, in a replay), so an endpoint that starts answering
        500 to new writes just after accepting that half dead-letters the rest of the batch
        (replayable).
        """
        item = batch.items[pos]
        attempt = rounds = 0
        last_try = False
        elsewhere = self._accepted  # batches in flight beside this one are evidence too
        while True:
            tries = 1 if last_try else SPLIT_AFTER
            outcome = await self.send([item], tries=tries, attempt=attempt)
            if outcome.verdict is not Verdict.RETRY:
                return outcome  # delivered, rejected...: the caller concludes
            attempt += tries
            if not blames_request(outcome):
                last_try = False  # the endpoint's state (or no answer): not the item's fault
            elif last_try:
                break
            else:
                rounds += 1
                last_try = (
                    batch.accepted > since
                    or self._accepted > elsewhere
                    or await self._probe(batch, pos, rounds)
                )
            await self._wait(attempt, outcome)
        if self.stats.state is State.RETRYING:
            self.stats.state = State.RUNNING  # the endpoint is well; only this item is not
        message = (
            f"dead letter (poison, HTTP {outcome.status}): the endpoint failed item {item.seq} "
            f"({item.name}) {attempt} times alone while accepting other items: "
            f"{outcome.detail[:200]}"
        )
        await self._dead(item, outcome, message)
        return None

    async def _probe(self, batch: _Batch, pos: int, count: int) -> bool:
        """Send up to `count` of the unsettled items after `pos`, once each, in order, and settle
        those answered; True at the first the endpoint accepts.

        Round n of a stuck item probes up to n items, so a run of poison items is crossed in a few
        rounds, while a sick endpoint gets one more request per round (up to the rest of the
        batch) between rounds of growing backoff; with nothing after it in the batch, the items
        that follow it (`more`: the delivery's next batch) are taken in. Only a later item is
        ever sent: an item the endpoint already has proves it can read, not that it can write
        (Ralph answers 204 to statements it has, without writing)."""
        later = [p for p in range(pos + 1, len(batch.items)) if p not in batch.done]
        if not later and batch.more is not None:  # nothing after it here: what comes next
            extra = await batch.more()
            later = list(range(len(batch.items), len(batch.items) + len(extra)))
            batch.items.extend(extra)
        for p in later[:count]:
            if self._stopping.is_set():  # each probe may take a timeout: do not hold up a stop
                raise asyncio.CancelledError
            self.stats.in_flight += 1
            try:
                outcome = await self.send([batch.items[p]], tries=1)
            finally:
                self.stats.in_flight -= 1
            if outcome.verdict is Verdict.RETRY:
                continue
            batch.done.add(p)
            await self._conclude(batch, [p], outcome, None)
            if outcome.verdict in (Verdict.DELIVERED, Verdict.DUPLICATE):
                return True
        return False

    def _delivered(self, batch: _Batch, items: list[Item]) -> None:
        now = time.time()
        batch.accepted += 1
        self._accepted += 1
        self.stats.delivered += len(items)
        self.stats.last_delivery_at = now
        self.stats.latencies.record(now, [item.ingested_at for item in items])

    async def _dead(self, item: Item, outcome: Outcome, message: str) -> None:
        await self.dead_letter(item, outcome)
        self.stats.dead_letters += 1
        self.stats.error(message)

    async def send(self, items: list[Item], tries: int | None = None, attempt: int = 0) -> Outcome:
        """Send until a terminal answer; transient failures retry with backoff.

        After `tries` transient failures (None: never) the RETRY outcome is handed back, so the
        caller can split the batch or judge a lone item: some endpoints answer 5xx to one bad
        statement (Ralph 5.1 does, for an account homePage that is not an IRI), and that must
        not hold up the others.
        `attempt` counts earlier tries of these items, so the backoff keeps growing across calls.
        """
        payloads = [item.payload for item in items]
        give_up = None if tries is None else attempt + tries
        while True:
            outcome = await self.sink.send(payloads)
            self.stats.attempts.record(len(payloads), outcome, attempt + 1)
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
            if give_up is not None and attempt >= give_up:
                return outcome
            await self._wait(attempt, outcome)

    async def _wait(self, attempt: int, outcome: Outcome) -> None:
        """Back off before the next try, or less if an operator asks to retry now (`retry`);
        a stop meanwhile leaves the batch for the next run."""
        delay = backoff(attempt, retry_after=outcome.retry_after)
        self.stats.attempts.waiting(delay)
        self.retry.clear()
        stopping = asyncio.create_task(self._stopping.wait())
        asked = asyncio.create_task(self.retry.wait())
        try:
            await asyncio.wait({stopping, asked}, timeout=delay, return_when="FIRST_COMPLETED")
        finally:
            for task in (stopping, asked):
                task.cancel()
            self.stats.attempts.retrying()
        if self._stopping.is_set():
            raise asyncio.CancelledError


def blames_request(outcome: Outcome) -> bool:
    """Whether a transient failure may be the request's fault: a 5xx other than 502, 503, 504."""
    return (
        outcome.status is not None
        and outcome.status >= 500
        and outcome.status not in ENDPOINT_STATE
    )


def describe(outcome: Outcome) -> str:
    status = f"HTTP {outcome.status}" if outcome.status else "no answer"
    return f"{outcome.verdict.value}: {status} {outcome.detail[:300]}".strip()
