"""The bus source against the REAL producer: event-tracking → openedx-events → edx-event-bus-redis.

The LMS side runs in a subprocess with minimal Django settings (tests/peers/openedx.py); the
router reads what it published with only redis + fastavro, and every field is compared with
what the tracker handed its backends.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from event_router.bus.tracking import Decoded, decode_tracking
from event_router.bus.wire import TRACKING_EVENT_TYPE
from event_router.journal import SqliteJournal
from tests.peers.bus import BusRedis
from tests.peers.receiver import Receiver
from tests.peers.router import Router
from tests.support.reference import expected_ids
from tests.support.sources import CONTEXT, LMS_EVENTS, run_until, source
from tests.support.traffic import lrs_consumer

pytestmark = pytest.mark.timeout(120)


def produce(
    bus: BusRedis, events: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Publish through the real LMS path; (events as the tracker sent them, library versions)."""
    out = subprocess.run(
        [sys.executable, "-m", "tests.peers.openedx", "produce", bus.url, bus.prefix, "analytics"],
        input="\n".join(json.dumps(e) for e in events),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    return lines[:-1], lines[-1]["versions"]


def test_real_producer_every_field(tmp_path: Path, bus_redis: BusRedis) -> None:
    emitted, versions = produce(bus_redis, LMS_EVENTS)
    assert [e["name"] for e in emitted] == [e["name"] for e in LMS_EVENTS]
    stream = bus_redis.stream()
    raw = bus_redis.entries(stream)
    assert len(raw) == len(LMS_EVENTS)

    # The wire, decoded with redis + fastavro only.
    for (entry_id, fields), sent in zip(raw, emitted, strict=True):
        decoded = decode_tracking(entry_id.decode(), fields)
        assert isinstance(decoded, Decoded)
        meta = decoded.metadata
        assert meta.event_type == TRACKING_EVENT_TYPE
        assert uuid.UUID(meta.id or "").version == 1
        assert meta.source == "openedx/lms/web"
        assert meta.minorversion == 0
        assert meta.sourcehost == socket.gethostname()
        assert meta.sourcelib == versions["openedx_events"]
        assert meta.sent_at is not None and meta.sent_at.utcoffset() == UTC.utcoffset(None)
        assert abs((datetime.now(UTC) - meta.sent_at).total_seconds()) < 120
        log = decoded.tracking_log
        assert log["name"] == sent["name"]
        assert log["timestamp"] == sent["timestamp"]  # the same isoformat() string
        assert json.loads(log["data"]) == sent["data"]
        assert json.loads(log["context"]) == sent["context"]
        event = decoded.event
        assert (event.name, event.timestamp) == (sent["name"], sent["timestamp"])
        assert event.data == sent["data"] and event.context == sent["context"]
        assert event.time == datetime.fromisoformat(sent["timestamp"])
    decoded = decode_tracking("0-1", raw[1][1])
    assert isinstance(decoded, Decoded) and isinstance(decoded.event.data, str)

    # The source: everything into the journal, in order, acked.
    journal = SqliteJournal(tmp_path / "journal.db")
    reader = source(journal, bus_redis)
    run_until(reader, lambda: reader.counts["accepted"] == len(LMS_EVENTS))
    entries, bad = journal.read(0, 100)
    assert bad == []
    assert [e.event.as_dict() for e in entries] == emitted
    assert bus_redis.pending(stream, "event-router") == 0
    assert not reader.counts["malformed"] and not reader.counts["other_types"]
    journal.close()


def test_real_producer_to_an_lrs_same_ids_as_the_tracking_log(
    tmp_path: Path, bus_redis: BusRedis, receiver: Receiver
) -> None:
    """LMS → bus → `event-router run --redis-url …` → LRS: the statement ids `transform` gives
    for the same events (so the bus and the tracking log feed an LRS without duplicates)."""
    videos = [
        {
            "name": "play_video",
            "data": {
                "id": "0b9e39477cf34507a7a48f74be381fdd",
                "currentTime": i,
                "duration": 600,
                "code": "html5",
            },
            "context": {**CONTEXT, "event_source": "browser", "user_id": 40 + i % 3},
        }
        for i in range(40)
    ]
    router = Router(
        tmp_path / "home",
        EVENT_ROUTER_REDIS_URL=bus_redis.url,
        EVENT_ROUTER_BUS_TOPIC="analytics",
        EVENT_ROUTER_BUS_PREFIX=bus_redis.prefix,
    )
    lrs_consumer(router, receiver)
    with router:
        emitted, _ = produce(bus_redis, videos + LMS_EVENTS)
        expected = expected_ids(router, emitted)
        assert len(expected) > len(videos)
        receiver.wait_for(len(expected), timeout=60)
    assert receiver.ids == expected
    assert receiver.duplicates == {}
