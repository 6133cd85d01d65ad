"""The engine's own work: which translations it asks sources to make at ingest (those of
consumers that take every event and keep up: for a filtered or lagging consumer the work would
be wasted), and its housekeeping (status, trimming)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from event_router.delivery.engine import WARM_LAG, Engine
from event_router.journal import SqliteJournal
from event_router.routing.consumer import Consumer, Protocol
from event_router.routing.identity import Policy
from event_router.routing.route import Route
from event_router.store import Store


def test_warm_pairs_follow_the_running_consumers(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.db")
    store = Store.open(f"sqlite:///{tmp_path / 'control.db'}")
    url = "http://127.0.0.1:9/xapi/statements"
    for consumer in (
        Consumer(name="lrs", url=url),
        Consumer(name="lrs-too", url=url),  # the same pair: translated once
        Consumer(name="named", url=url, identity=Policy.USERNAME),
        Consumer(name="videos", url=url, identity=Policy.MBOX, route=Route(allow=["play_video"])),
        Consumer(name="raw", url=url, protocol=Protocol.EDX, sink="webhook"),
        Consumer(name="off", url=url, protocol=Protocol.CALIPER, enabled=False),
    ):
        store.consumers.add(consumer)
    engine = Engine(journal, store, lms_url="http://lms", secret_key="s", translation_workers=1)

    async def go() -> tuple[tuple[tuple[str, str], ...], ...]:
        await engine.sync()
        warm = engine._warm_pairs()
        engine._running["lrs"].delivery.stats.cursor = journal.head - WARM_LAG  # far behind
        engine._running["lrs-too"].delivery.stats.cursor = journal.head - WARM_LAG
        lagging = engine._warm_pairs()
        await engine.shutdown()
        return warm, lagging

    try:
        warm, lagging = asyncio.run(go())
    finally:
        journal.close()
        store.close()
    assert warm == (("xapi", "anonymous"), ("xapi", "username"))
    assert lagging == (("xapi", "username"),)
    no_pool = Engine(journal, store, lms_url="http://lms", secret_key="s")
    assert no_pool._warm_pairs() == ()  # nothing translates ahead without workers


def test_housekeeping_trims_below_the_slowest_running_consumer(tmp_path: Path) -> None:
    """Status written and the journal trimmed below every running consumer's cursor (once past
    the retention window), on the thread the engine gives it."""
    journal = SqliteJournal(tmp_path / "journal.db")
    store = Store.open(f"sqlite:///{tmp_path / 'control.db'}")
    engine = Engine(journal, store, lms_url="http://lms", secret_key="s", retention=0)
    try:
        journal.submit([b'{"name": "a", "time": "2024-01-01T00:00:00+00:00"}'] * 10).result()
        journal.submit((), None, {"fast": 8, "slow": 3}).result()
        engine._housekeeping({"fast": b"{}"}, ["fast", "slow"])
        assert journal.size()[0] == 7  # seqs 1..3 are gone: "slow" has passed them
        assert set(journal.read_status()) == {"fast"}
        engine._housekeeping({}, ["fast", "slow"])  # within the minute: no second trim
        journal.submit((), None, {"slow": 8}).result()
        engine._housekeeping({}, ["fast", "slow"])
        assert journal.size()[0] == 7
    finally:
        journal.close()
        store.close()
