"""Waiting before a retry: exponential with full jitter, capped, never sooner than Retry-After —
as a function, and as the gap between two real requests."""

from __future__ import annotations

import asyncio
import time

import orjson
from hypothesis import given
from hypothesis import strategies as st

from event_router.delivery.backoff import backoff
from event_router.delivery.sender import Item, Sender
from event_router.delivery.stats import Stats
from event_router.routing.consumer import Consumer
from event_router.sinks import build_sink
from event_router.sinks.outcome import Outcome
from tests.peers.payloads import statement
from tests.peers.receiver import Receiver


@given(attempt=st.integers(1, 200), retry_after=st.none() | st.floats(0, 10_000))
def test_the_wait_is_bounded_jittered_and_honours_retry_after(
    attempt: int, retry_after: float | None
) -> None:
    bound = min(30.0, 0.1 * 2 ** (attempt - 1))
    delay = backoff(attempt, retry_after=retry_after)
    floor = 0.0 if retry_after is None else min(retry_after, 3600.0)
    assert max(bound / 2, floor) <= delay <= max(bound, floor)


def test_retries_are_spread_not_in_lockstep() -> None:
    assert len({round(backoff(6), 6) for _ in range(50)}) > 40


def test_a_sender_waits_as_long_as_retry_after_says(receiver: Receiver) -> None:
    receiver.fail_next(1, 429, retry_after="1")
    consumer = Consumer(name="lrs", url=f"{receiver.url}/xAPI/statements")

    async def no_dead_letter(item: Item, outcome: Outcome) -> None:
        raise AssertionError(outcome)

    async def paused(outcome: Outcome) -> None:
        raise AssertionError(outcome)

    async def go() -> None:
        sink = build_sink(consumer, secret_key="k")
        sender = Sender("lrs", sink, no_dead_letter, Stats(), asyncio.Event(), paused)
        try:
            await sender.deliver([Item(1, "x", orjson.dumps(statement()), time.time())])
        finally:
            await sink.close()

    asyncio.run(go())
    first, second = receiver.exchanges[0], receiver.exchanges[1]
    assert first.status == 429 and second.status == 200
    assert second.arrived - first.arrived >= 1.0  # not the 0.05-0.1 s the first backoff gives
