"""`event-router consumers rewind`: the time it takes, the request in the journal, the engine
applying it, and the real router sending the events again."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st

from event_router.cli.rewind import parse_since
from event_router.delivery.cursor import CursorReaders
from event_router.delivery.engine import Engine
from event_router.delivery.rewind import RewindRequests
from event_router.journal import SqliteJournal
from event_router.routing.consumer import Consumer
from event_router.store import Store
from tests.cli.conftest import Invoke
from tests.peers.receiver import Receiver
from tests.peers.router import Router
from tests.support.reference import expected_ids
from tests.support.traffic import bodies, lrs_consumer, play, write_log
from tests.support.wait import clock_moves_on, until, wait_until

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
EVENT = b'{"name": "a", "time": "2024-01-01T00:00:00+00:00"}'


def test_since_takes_durations_and_iso_times() -> None:
    assert parse_since("2h", NOW) == NOW - timedelta(hours=2)
    assert parse_since("90s", NOW) == NOW - timedelta(seconds=90)
    assert parse_since("1.5d", NOW) == NOW - timedelta(days=1.5)
    assert parse_since("99999999999d", NOW) == datetime.min.replace(tzinfo=UTC)  # all there is
    assert parse_since("2026-12-05T10:00:00+01:00", NOW) == datetime(2026, 12, 5, 9, tzinfo=UTC)
    assert parse_since("2026-12-05 10:00", NOW) == datetime(2026, 12, 5, 10, tzinfo=UTC)  # UTC
    for bad, message in (("yesterday", "neither a duration"), ("2027-01-01", "in the future")):
        with pytest.raises(typer.BadParameter, match=message):
            parse_since(bad, NOW)


def test_the_engine_moves_the_cursor_back_between_batches(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.db")
    store = Store.open(f"sqlite:///{tmp_path / 'control.db'}")
    store.consumers.add(Consumer(name="lrs", url="http://127.0.0.1:9/x"))
    engine = Engine(
        CursorReaders(journal), store, lms_url="http://lms", secret_key="s", poll_interval=0.05
    )

    async def go() -> tuple[int | None, int | None]:
        stop = asyncio.Event()
        task = asyncio.create_task(engine.run(stop))
        await until(lambda: "lrs" in engine._running, interval=0.01)
        # As if all delivered; the endpoint is down, so a delivery stays where it starts.
        journal.submit(bodies(10), None, {"lrs": 10}).result()
        RewindRequests(journal).request("lrs", 4)
        await until(lambda: not RewindRequests(journal).pending(), interval=0.01)
        await until(lambda: "lrs" in engine._running, interval=0.01)
        # The new delivery sets its cursor when its task first runs; the endpoint is down, so
        # from then on it stays where it started: 4 after a rewind, never again 0 or 10.
        delivery = engine._running["lrs"].delivery
        await until(lambda: delivery.stats.cursor == 4, 10, lambda: f"at {delivery.stats.cursor}")
        cursor = delivery.stats.cursor
        stop.set()
        await task
        return cursor, journal.cursor("lrs")

    try:
        running_from, stored = asyncio.run(asyncio.wait_for(go(), 20))
    finally:
        journal.close()
        store.close()
    assert running_from == 4  # the new delivery starts at the rewound cursor
    assert stored is not None and stored >= 4


def test_a_cursor_already_behind_is_left_alone(cli: Invoke, home: Path, store_url: str) -> None:
    with Store.open(store_url) as store:
        store.consumers.add(Consumer(name="lrs", url="http://127.0.0.1:9/x"))
    journal = SqliteJournal(home / "journal.db")
    journal.submit([EVENT] * 5, None, {"lrs": 0}).result()
    journal.close()
    result = cli("consumers", "rewind", "lrs", "--since", "1h")
    assert result.exit_code == 0 and "nothing to send again" in result.stdout
    journal = SqliteJournal(home / "journal.db")
    assert RewindRequests(journal).pending() == {}
    journal.close()
    unknown = cli("consumers", "rewind", "nobody", "--since", "1h")
    assert unknown.exit_code != 0 and "nobody" in unknown.output


@pytest.mark.timeout(120)
def test_a_running_router_sends_the_events_again(tmp_path: Path, receiver: Receiver) -> None:
    log = tmp_path / "tracking.log"
    router = Router(tmp_path / "home", tracking_logs=[log])
    lrs_consumer(router, receiver)
    first, second = [play(i) for i in range(40)], [play(i) for i in range(40, 60)]
    with router:
        write_log(log, first)
        receiver.wait_for(40, timeout=30)
        clock_moves_on()  # the first lot was accepted before `since`, the second after
        since = datetime.now(UTC)
        clock_moves_on()
        write_log(log, second)
        receiver.wait_for(60, timeout=30)
        rewound = subprocess.run(
            [sys.executable, "-m", "event_router", "consumers", "rewind", "lrs",
             "--since", since.isoformat()],
            env=router.env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert "20 events accepted since" in rewound.stdout
        wait_until(lambda: receiver.count >= 80, 30, "the second lot sent again")
        # caught up, and nothing on its way: anything more would show now
        wait_until(lambda: router.status()["consumers"]["lrs"]["pending"] == 0, message="done")
        receiver.drain()
    ids = expected_ids(router, first + second)
    assert receiver.ids == ids + ids[40:]  # the second lot, again, in order; nothing else
    assert receiver.count == 80


@given(text=st.text(max_size=40) | st.from_regex(r"\A\d{1,30}(\.\d{1,5})?[smhd]\Z"))
def test_any_since_text_is_a_time_or_a_clear_refusal(text: str) -> None:
    try:
        moment = parse_since(text, NOW)
    except typer.BadParameter as exc:
        assert "--since" in str(exc.param_hint)
    else:
        assert moment.tzinfo is not None and moment <= NOW
