"""One consumer's delivery loop against a real HTTP receiver: batches pipelined, the cursor moved
only over the settled prefix, in journal order, and a stop that leaves unsettled work unacked."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import orjson
import pytest

from event_router.delivery import backoff
from event_router.delivery.consumer import Delivery
from event_router.delivery.cursor import CursorReader
from event_router.delivery.encoder import Encoder, TranslationCache
from event_router.delivery.sender import Item
from event_router.journal import SqliteJournal
from event_router.routing.consumer import Consumer
from event_router.sinks.base import build_sink
from event_router.sinks.outcome import Outcome
from tests.conftest import erb_options
from tests.peers.receiver import Receiver
from tests.support.traffic import bodies
from tests.support.wait import until


async def no_dead_letters(item: Item, outcome: Outcome) -> None:
    raise AssertionError(f"unexpected dead letter {item.seq}: {outcome}")


def delivery(journal: SqliteJournal, receiver: Receiver, **settings: object) -> Delivery:
    consumer = Consumer(
        name="lrs", url=f"{receiver.url}/xAPI/statements", batch_size=10, linger=0, **settings
    )
    encoder = Encoder(consumer, erb_options(), TranslationCache())
    sink = build_sink(consumer, secret_key="k")
    return Delivery(encoder, sink, CursorReader(journal, "lrs", 0), no_dead_letters)


def deliver_all(
    tmp_path: Path, receiver: Receiver, count: int, in_flight: int
) -> tuple[list[tuple[int, int]], list[bytes]]:
    """Deliver `count` events; (items stored, cursor) as seen while it ran, and the bodies."""
    journal = SqliteJournal(tmp_path / "journal.db")
    seen: list[tuple[int, int]] = []

    async def go() -> None:
        await journal.append(bodies(count))
        run = delivery(journal, receiver, max_in_flight=in_flight)
        task = asyncio.create_task(run.run())

        def settled() -> bool:
            cursor = journal.cursor("lrs") or 0
            seen.append((len(receiver.stored), cursor))
            return cursor >= count

        await until(settled, interval=0.005)
        run.stop()
        await task

    try:
        asyncio.run(go())
        entries, _ = journal.read(0, count)
    finally:
        journal.close()
    return seen, [e.body for e in entries]


def test_the_cursor_waits_for_a_retried_batch_while_later_ones_land(
    tmp_path: Path, receiver: Receiver
) -> None:
    receiver.fail_next(2, 503)  # the first batch is refused twice, then stored
    seen, _ = deliver_all(tmp_path, receiver, 40, in_flight=4)
    # Later batches were stored while the first was being retried, and meanwhile the cursor
    # did not move past it.
    assert any(stored >= 10 and cursor == 0 for stored, cursor in seen), seen
    assert len(receiver.stored) == 40 and len(receiver.ids) == 40  # each once
    assert sum(1 for e in receiver.exchanges if e.status == 503) == 2


def test_in_order_with_one_in_flight(tmp_path: Path, receiver: Receiver) -> None:
    receiver.fail_next(1, 500)
    _, sent = deliver_all(tmp_path, receiver, 35, in_flight=1)
    stamps = [orjson.loads(body)["timestamp"] for body in sent]
    assert [receiver.stored[i]["timestamp"] for i in receiver.ids] == stamps  # journal order


def test_stop_while_retrying_leaves_the_batch_for_the_next_run(
    tmp_path: Path, receiver: Receiver
) -> None:
    journal = SqliteJournal(tmp_path / "journal.db")
    receiver.fail_next(1000, 503)

    async def go() -> None:
        await journal.append(bodies(25))
        run = delivery(journal, receiver, max_in_flight=2)
        task = asyncio.create_task(run.run())
        await until(lambda: receiver.requests >= 3, interval=0.01)
        run.stop()
        with contextlib.suppress(asyncio.CancelledError):  # unsettled batches: it says so
            await asyncio.wait_for(task, 5)

    try:
        asyncio.run(go())
        assert (journal.cursor("lrs") or 0) == 0  # nothing was acknowledged
    finally:
        journal.close()
    assert not receiver.stored


def test_a_paused_consumer_tries_again_by_itself(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """401 pauses the consumer; fixed on the LRS side (no change the router can see), it resumes
    at the next periodic try, and sooner when an operator's change wakes it."""
    monkeypatch.setattr(backoff, "PAUSE_RETRY", 0.3)
    journal = SqliteJournal(tmp_path / "journal.db")
    receiver.fail_next(1, 401)
    paused_at: list[float] = []

    async def go() -> float:
        await journal.append(bodies(5))
        run = delivery(journal, receiver)
        task = asyncio.create_task(run.run())

        def delivered() -> bool:
            if run.stats.state.value == "paused" and not paused_at:
                paused_at.append(time.monotonic())
            return (journal.cursor("lrs") or 0) >= 5

        await until(delivered, interval=0.01)
        resumed = time.monotonic()
        run.stop()
        await task
        return resumed

    try:
        resumed = asyncio.run(asyncio.wait_for(go(), 10))
    finally:
        journal.close()
    assert paused_at and resumed > paused_at[0]  # it was seen paused, then it delivered
    assert len(receiver.stored) == 5 and receiver.requests == 2
    first, second = receiver.exchanges
    assert second.arrived - first.arrived >= 0.3  # it waited, rather than hammering the LRS


def test_paused_returns_on_resume_or_after_the_retry_interval() -> None:
    async def go() -> tuple[float, float]:
        resume = asyncio.Event()
        loop = asyncio.get_running_loop()
        start = loop.time()
        await backoff.paused(resume, retry=0.2)
        waited = loop.time() - start
        loop.call_later(0.05, resume.set)
        start = loop.time()
        await backoff.paused(resume, retry=30)
        return waited, loop.time() - start

    waited, woken = asyncio.run(go())
    assert 0.19 <= waited < 5 and woken < 5  # (upper bounds only for a very busy machine)
