"""Promises of the running router not covered elsewhere, each against the real process.

- A consumer whose endpoint is down does not slow the others; its backlog shows, then drains.
- The HTTP ingest body limit (EVENT_ROUTER_MAX_BODY_BYTES): 413, and nothing of the body journaled,
  whether the body is plain, streamed without a length, or gzip inflating past the limit.
- SIGTERM in the middle of a stream: in-flight batches are settled, the process exits 0, and after
  a restart everything arrives exactly once.
- What a consumer receives is, byte for byte, what `event-router transform` prints.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import orjson
import pytest

from tests.conftest import DEMO_COURSE, ERB, erb_fixture_names
from tests.peers.receiver import Receiver, free_port
from tests.peers.router import Router
from tests.support.reference import statement_ids, transformed
from tests.support.traffic import lrs_consumer, play, write_log
from tests.support.wait import wait_until

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def down_receiver() -> Iterator[Receiver]:
    """A second receiver whose port is reserved but closed until the test calls `up()`."""
    other = Receiver()
    other.port = free_port()
    yield other
    other.down()


def test_a_consumer_whose_endpoint_is_down_does_not_slow_the_others(
    tmp_path: Path, receiver: Receiver, down_receiver: Receiver
) -> None:
    router = Router(tmp_path / "home")
    lrs_consumer(router, receiver, name="healthy", batch_size=100)
    lrs_consumer(router, down_receiver, name="stuck", batch_size=100)
    events = [play(i) for i in range(2000)]
    expected = statement_ids(transformed(router, events))
    took = []
    with router:
        for half in (0, 1000):
            started = time.monotonic()
            for start in range(half, half + 1000, 250):
                assert router.post(events[start : start + 250]).status_code == 202
            receiver.wait_for(half + 1000, timeout=20)
            took.append(time.monotonic() - started)
            backlog = half + 1000
            wait_until(partial(stuck_holds, router, backlog), 10)
        print(f"the healthy consumer's 1000-event halves took {took} s")
        # The healthy consumer is not held up by the other's retries (in the second half, the
        # stuck one's backoff has reached seconds): its events arrive as soon as accepted.
        assert max(took) < 5, f"the healthy consumer took {took} s per 1000 events"
        assert receiver.ids == expected
        # The other's backlog grew with the stream, and shows in both status views (pending
        # is live from the journal; `delivered` from the snapshot the router writes each second).
        report = router.cli_status()
        stuck, healthy = report["consumers"]["stuck"], report["consumers"]["healthy"]
        assert (stuck["pending"], healthy["pending"]) == (2000, 0)
        wait_until(lambda: router.cli_status()["consumers"]["healthy"]["delivered"] == 2000, 10)
        assert router.cli_status()["consumers"]["stuck"]["delivered"] == 0
        wait_until(lambda: router.status()["consumers"]["stuck"]["state"] == "retrying", 10)
        live = router.status()["consumers"]["stuck"]
        assert live["delivered"] == 0 and "ConnectError" in (live["last_error"] or "")
        # The endpoint comes back: the backlog drains, in order, nothing lost or doubled.
        down_receiver.up()
        down_receiver.wait_for(2000, timeout=45)
        wait_until(lambda: router.cli_status()["consumers"]["stuck"]["pending"] == 0, 10)
    assert down_receiver.ids == expected
    assert receiver.ids == expected  # the healthy one got nothing more meanwhile


def test_live_status_and_metrics_show_the_backlog_of_a_consumer_that_never_delivered(
    tmp_path: Path, receiver: Receiver, down_receiver: Receiver
) -> None:
    """The API status and /metrics must show the lag of a consumer stuck from the start (its
    cursor is still 0), as `event-router status` does: that is the consumer to alert on."""
    router = Router(tmp_path / "home")
    lrs_consumer(router, receiver, name="healthy")
    lrs_consumer(router, down_receiver, name="stuck")
    with router:
        assert router.post([play(i) for i in range(300)]).status_code == 202
        receiver.wait_for(300, timeout=20)
        wait_until(lambda: router.status()["consumers"]["stuck"]["state"] == "retrying", 10)
        assert router.cli_status()["consumers"]["stuck"]["pending"] == 300
        live = router.status()["consumers"]
        assert live["healthy"]["pending"] == 0
        metrics = httpx.get(f"{router.url}/metrics", timeout=10).text
        lag = {
            line.split()[0]: float(line.split()[1])
            for line in metrics.splitlines()
            if line.startswith("event_router_lag_events{")
        }
        shown = (live["stuck"]["pending"], lag['event_router_lag_events{consumer="stuck"}'])
        assert shown == (300, 300), f"(API pending, metrics lag) of the stuck consumer: {shown}"


def test_ingest_body_over_the_limit_is_413_and_nothing_of_it_is_journaled(
    tmp_path: Path, receiver: Receiver
) -> None:
    limit = 4096
    router = Router(tmp_path / "home", EVENT_ROUTER_MAX_BODY_BYTES=str(limit))
    lrs_consumer(router, receiver)
    big = [play(i) for i in range(100)]
    plain = orjson.dumps(big)
    ndjson = b"\n".join(orjson.dumps(e) for e in big)
    bomb = gzip.compress(ndjson)
    assert len(plain) > limit and len(ndjson) > limit and len(bomb) < limit
    with router:
        too_big = router.post(plain)
        assert too_big.status_code == 413
        assert too_big.json() == {"error": f"body larger than {limit} bytes"}

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies as it streams
            for start in range(0, len(ndjson), 1000):
                yield ndjson[start : start + 1000]

        streamed = httpx.post(
            f"{router.url}/api/v1/events",
            content=chunks(),
            headers=router.ingest_headers,
            timeout=10,
        )
        assert streamed.status_code == 413
        assert "larger than 4096 bytes" in streamed.json()["error"]

        inflated = router.post(bomb, headers={"Content-Encoding": "gzip"})
        assert inflated.status_code == 413
        assert inflated.json() == {"error": f"decompressed body larger than {limit} bytes"}

        small = [play(1000), play(1001)]
        accepted = router.post(
            gzip.compress(orjson.dumps(small)), headers={"Content-Encoding": "gzip"}
        )
        assert accepted.status_code == 202 and accepted.json()["accepted"] == 2
        receiver.wait_for(2, timeout=20)
        assert router.status()["journal"]["head"] == 2
    # The journal holds only the accepted two, so they are all that could ever be delivered.
    assert router.cli_status()["journal"]["head"] == 2
    assert receiver.ids == statement_ids(transformed(router, small))


def test_sigterm_mid_stream_settles_in_flight_batches_then_a_restart_loses_nothing(
    tmp_path: Path, receiver: Receiver
) -> None:
    log = tmp_path / "tracking.log"
    router = Router(tmp_path / "home", tracking_logs=[log])
    lrs_consumer(router, receiver, batch_size=50, max_in_flight=2)
    receiver.delay = 0.4  # a slow LRS: batches stay in flight for a while
    events = [play(i) for i in range(1200)]
    expected = statement_ids(transformed(router, events))
    router.start()
    write_log(log, events[:800])
    wait_until(
        lambda: receiver.count >= 100 and router.status()["consumers"]["lrs"]["in_flight"] > 0,
        20,
        "deliveries under way with batches in flight",
    )
    signalled, stopping = time.time(), time.monotonic()
    code = router.stop(timeout=20)
    took = time.monotonic() - stopping
    assert code == 0, router.log.read_text()[-2000:]
    assert took < 10, f"SIGTERM took {took:.1f} s"
    # A batch was on the wire when the signal came: the LRS answered it afterwards.
    assert any(e.status == 200 and e.arrived > signalled for e in receiver.exchanges)
    arrived = receiver.count
    assert 100 <= arrived < 800, "the stop was not in the middle of the stream"
    # Every batch the LRS answered was recorded before exiting: the cursor is exactly there, so
    # nothing will be sent twice.
    state = router.cli_status()["consumers"]["lrs"]
    assert (state["pending"], state["delivered"]) == (800 - arrived, arrived)
    assert receiver.ids == expected[:arrived]
    receiver.delay = 0
    write_log(log, events[800:])
    with router:
        receiver.wait_for(1200, timeout=30)
    assert receiver.duplicates == {}
    assert receiver.ids == expected


def test_what_the_consumer_receives_is_byte_for_byte_what_transform_prints(
    tmp_path: Path, receiver: Receiver
) -> None:
    """Every ERB fixture event through HTTP ingest and the router's translation workers: the
    request bodies are exactly the statements `transform` prints, joined as JSON arrays."""
    router = Router(tmp_path / "home", EVENT_ROUTER_TRANSLATION_WORKERS="2")
    lrs_consumer(router, receiver, batch_size=25)
    courses = tmp_path / "courses.csv"
    courses.write_text(f"course_id,display_name\n{DEMO_COURSE},Demonstration Course\n")
    with router.store() as store:
        store.courses.import_csv(courses)
    events = [
        json.loads((ERB / "events" / f"{name}.json").read_text()) for name in erb_fixture_names()
    ]
    reference = transformed(router, events)
    assert len(reference) > len(events)  # some events fan out into several statements
    with router:
        assert router.post(events).status_code == 202
        receiver.wait_for(len(set(statement_ids(reference))), timeout=30)
    assert [r.item for r in receiver.received] == [orjson.loads(line) for line in reference]
    bodies = [e.body for e in receiver.exchanges if e.status == 200]
    assert all(body[:1] == b"[" and body[-1:] == b"]" for body in bodies)
    assert b",".join(body[1:-1] for body in bodies) == b",".join(reference)


def stuck_holds(router: Router, backlog: int) -> bool:
    return bool(router.cli_status()["consumers"]["stuck"]["pending"] == backlog)
