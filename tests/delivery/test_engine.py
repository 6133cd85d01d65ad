"""The engine's own work: which translations it asks sources to make at ingest (those of
consumers that take every event and keep up: for a filtered or lagging consumer the work would
be wasted), and its housekeeping (status, trimming)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from event_router.delivery.cursor import CursorReaders
from event_router.delivery.engine import Engine
from event_router.delivery.made_at_ingest import WARM_LAG
from event_router.delivery.status_store import StatusStore
from event_router.events import normalise
from event_router.journal import SqliteJournal
from event_router.routing.consumer import Consumer, Protocol
from event_router.routing.identity import Policy
from event_router.routing.route import Route
from event_router.store import Store
from tests.support.wait import clock_moves_on


def test_warm_pairs_follow_the_running_consumers(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.db")
    store = Store.open(f"sqlite:///{tmp_path / 'control.db'}", secret_key="s")
    url = "http://127.0.0.1:9/xapi/statements"
    for consumer in (
        Consumer(name="lrs", url=url),
        Consumer(name="lrs-too", url=url),  # the same pair: translated once
        Consumer(name="named", url=url, identity=Policy.USERNAME),
        Consumer(name="videos", url=url, identity=Policy.MBOX, route=Route(allow=["play_video"])),
        Consumer(name="raw", url=url, protocol=Protocol.EDX, sink="webhook", signing_secret="s"),
        Consumer(name="off", url=url, protocol=Protocol.CALIPER, enabled=False),
    ):
        store.consumers.add(consumer)
    engine = Engine(
        CursorReaders(journal), store, lms_url="http://lms", secret_key="s", translation_workers=1
    )

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
    no_pool = Engine(CursorReaders(journal), store, lms_url="http://lms", secret_key="s")
    assert no_pool._warm_pairs() == ()  # nothing translates ahead without workers


def test_housekeeping_trims_below_the_slowest_running_consumer(tmp_path: Path) -> None:
    """Status written and the journal trimmed below every running consumer's cursor (once past
    the retention window), on the thread the engine gives it."""
    journal = SqliteJournal(tmp_path / "journal.db")
    store = Store.open(f"sqlite:///{tmp_path / 'control.db'}")
    engine = Engine(
        CursorReaders(journal), store, lms_url="http://lms", secret_key="s", retention=0
    )
    try:
        journal.submit([b'{"name": "a", "time": "2024-01-01T00:00:00+00:00"}'] * 10).result()
        journal.submit((), None, {"fast": 8, "slow": 3}).result()
        cursor_readers(engine).housekeeping({"fast": b"{}"}, ["fast", "slow"], engine.retention)
        assert journal.size()[0] == 7  # seqs 1..3 are gone: "slow" has passed them
        assert set(StatusStore(journal).read()) == {"fast"}
        cursor_readers(engine).housekeeping(
            {}, ["fast", "slow"], engine.retention
        )  # within the minute: no second trim
        journal.submit((), None, {"slow": 8}).result()
        cursor_readers(engine).housekeeping({}, ["fast", "slow"], engine.retention)
        assert journal.size()[0] == 7
    finally:
        journal.close()
        store.close()


def cursor_readers(engine: Engine) -> CursorReaders:
    assert isinstance(engine.readers, CursorReaders)
    return engine.readers


def _engine(tmp_path: Path) -> tuple[Engine, SqliteJournal, Store]:
    journal = SqliteJournal(tmp_path / "journal.db")
    store = Store.open(f"sqlite:///{tmp_path / 'control.db'}")
    return (
        Engine(CursorReaders(journal), store, lms_url="http://lms", secret_key="s"),
        journal,
        store,
    )


EVENT = b'{"name": "a", "time": "2024-01-01T00:00:00+00:00"}'
URL = "http://127.0.0.1:9/xapi/statements"


def test_a_consumer_added_again_under_an_old_name_starts_afresh(tmp_path: Path) -> None:
    """The cursor an earlier `lrs` left must not make the new `lrs` receive old events."""
    engine, journal, store = _engine(tmp_path)
    try:
        journal.submit([EVENT] * 5, None, {"lrs": 2}).result()  # an earlier lrs stopped at 2
        clock_moves_on()  # a new millisecond: what follows is later than what came before
        store.consumers.add(Consumer(name="lrs", url=URL))  # created after that cursor moved
        journal.submit([EVENT] * 3).result()
        asyncio.run(_sync_and_stop(engine))
        # It starts at its creation: seq 5 (nothing before it), not at its predecessor's 2.
        assert journal.cursor("lrs") == 5
        # A consumer that merely restarts keeps its own cursor.
        journal.submit((), None, {"lrs": 7}).result()
        again = Engine(CursorReaders(journal), store, lms_url="http://lms", secret_key="s")
        asyncio.run(_sync_and_stop(again))
        assert journal.cursor("lrs") == 7
    finally:
        journal.close()
        store.close()


async def _sync_and_stop(engine: Engine) -> None:
    await engine.sync()
    await engine.shutdown()


def test_an_enabled_consumer_that_cannot_run_still_holds_its_events(tmp_path: Path) -> None:
    """A webhook without its signing secret is paused (its sink cannot be built) but enabled:
    trimming must not take the events it has not had. The store refuses such a webhook now, so
    it is written as a router from before that check stored it (old stores hold such rows)."""
    engine, journal, store = _engine(tmp_path)
    engine.retention = 0
    try:
        store.consumers.add(Consumer(name="lrs", url=URL))
        consumers = store.consumers
        with consumers._db.write() as conn:
            hook = Consumer(name="hook", url=URL, protocol="edx", sink="webhook")
            consumers._insert(conn, hook, consumers._db.bump(conn))
        store.consumers.add(Consumer(name="off", url=URL, enabled=False))
        asyncio.run(engine.sync())
        assert "hook" not in engine._running and engine.stats["hook"].state.value == "paused"
        journal.submit([EVENT] * 10, None, {"lrs": 10, "off": 0}).result()
        cursor_readers(engine).housekeeping({}, engine._enabled(), engine.retention)
        assert journal.size()[0] == 10  # "hook" is at 0: nothing may go
        journal.submit((), None, {"hook": 4}).result()
        cursor_readers(engine)._last_trim = 0.0
        cursor_readers(engine).housekeeping({}, engine._enabled(), engine.retention)
        assert journal.size()[0] == 6  # the disabled "off" (at 0) holds nothing back
        asyncio.run(engine.shutdown())
    finally:
        journal.close()
        store.close()


def test_identities_imported_while_running_reach_the_running_deliveries(tmp_path: Path) -> None:
    """In-process translation (small batches) uses the new table too, as `transform` would."""
    engine, journal, store = _engine(tmp_path)
    event = normalise(
        {
            "name": "play_video",
            "time": "2024-01-01T00:00:00+00:00",
            "context": {"user_id": 42},
            "data": {"duration": 600},
        }
    )

    async def go() -> tuple[str, str]:
        store.consumers.add(Consumer(name="lrs", url=URL))
        await engine.sync()
        encoder = engine._running["lrs"].delivery.encoder
        before = encoder.options.identity.xapi_actor(event).value["account"]["name"]
        csv = tmp_path / "ids.csv"
        csv.write_text("user_id,username,kind,anonymous_id\n42,ana,xapi,imported-id-42\n")
        store.identities.import_csv(csv)
        await engine._refresh_tables()
        after = engine._running["lrs"].delivery.encoder.options.identity.xapi_actor(event)
        await engine.shutdown()
        return before, after.value["account"]["name"]

    try:
        before, after = asyncio.run(go())
    finally:
        journal.close()
        store.close()
    assert before != "imported-id-42" and after == "imported-id-42"
