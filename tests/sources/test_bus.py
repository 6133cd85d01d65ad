"""The event-bus source against a real Redis: decode, de-duplicate, commit-then-ack, resume,
claim from dead peers, trimmed entries, other event types, malformed entries kept aside."""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path

import pytest

from event_router.bus.tracking import Decoded, decode_tracking
from event_router.bus.wire import TRACKING_EVENT_TYPE, Metadata, entry
from event_router.journal import SqliteJournal
from event_router.sources.bus import BusSource
from tests.peers.bus import BusRedis
from tests.peers.router import Router
from tests.support.sources import GROUP, event, names_and_users, run_until, source
from tests.support.wait import until, wait_until

pytestmark = pytest.mark.timeout(60)


def test_decodes_a_producer_entry_field_by_field(bus_redis: BusRedis) -> None:
    stream = bus_redis.stream()
    browser = {
        "name": "problem_check",
        "timestamp": "2024-03-05T10:05:13+00:00",  # microseconds 0: isoformat leaves them out
        "data": "input_3a2d_2_1=choice_1&input_3a2d_3_1=%C3%A9t%C3%A9",
        "context": {"user_id": 7, "username": "Élodie", "event_source": "browser", "page": "x"},
    }
    entry_id = bus_redis.publish(stream, browser, message_id="5f3f60b8-e619-11f1-bd65-02fc00000001")
    [(raw_id, fields)] = bus_redis.entries(stream)
    assert list(fields)[:7] == [
        b"type", b"id", b"source", b"time", b"minorversion", b"sourcehost", b"sourcelib"
    ]  # fmt: skip
    decoded = decode_tracking(raw_id.decode(), fields)
    assert isinstance(decoded, Decoded)
    assert decoded.entry_id == entry_id
    assert decoded.metadata.id == "5f3f60b8-e619-11f1-bd65-02fc00000001"
    assert decoded.metadata.event_type == TRACKING_EVENT_TYPE
    assert decoded.metadata.source == "openedx/lms/web"
    assert decoded.metadata.sent_at is not None and decoded.metadata.minorversion == 0
    assert decoded.tracking_log["context"] == (
        '{"user_id": 7, "username": "\\u00c9lodie", "event_source": "browser", "page": "x"}'
    )  # json.dumps defaults, ASCII-escaped, exactly as the producer wrote it
    assert decoded.event.name == "problem_check"
    assert decoded.event.timestamp == "2024-03-05T10:05:13+00:00"
    assert decoded.event.data == browser["data"]  # a JSON string literal stays a string
    assert decoded.event.context == browser["context"]
    assert decoded.key == "id:5f3f60b8-e619-11f1-bd65-02fc00000001"


def test_backlog_then_live_each_event_once_and_acked(tmp_path: Path, bus_redis: BusRedis) -> None:
    stream = bus_redis.stream()
    for i in range(30):  # produced before the router ever ran: the new group starts at 0
        bus_redis.publish(stream, event(i))
    journal = SqliteJournal(tmp_path / "journal.db")
    reader = source(journal, bus_redis, batch=7)

    async def live() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(reader.run(stop))
        await until(lambda: reader.counts["accepted"] >= 30)
        for i in range(30, 45):
            bus_redis.publish(stream, event(i))
        await until(lambda: reader.counts["accepted"] >= 45)
        stop.set()
        await task

    asyncio.run(asyncio.wait_for(live(), 20))
    assert names_and_users(journal) == [("edx.course.enrollment.activated", i) for i in range(45)]
    assert bus_redis.pending(stream, GROUP) == 0
    saved = journal.position(reader.source_id)
    assert saved is not None and '"consumer":"router-a"' in saved
    journal.close()


def test_restart_reads_what_arrived_while_down(tmp_path: Path, bus_redis: BusRedis) -> None:
    stream = bus_redis.stream()
    journal = SqliteJournal(tmp_path / "journal.db")
    bus_redis.publish(stream, event(1))
    reader = source(journal, bus_redis, consumer=None)
    run_until(reader, lambda: reader.counts["accepted"] == 1)
    for i in range(2, 6):  # the router is down: never skipped on the next start (no SETID $)
        bus_redis.publish(stream, event(i))
    again = source(journal, bus_redis, consumer=None)
    assert again.consumer == reader.consumer  # the name is kept in the journal
    run_until(again, lambda: again.counts["accepted"] == 4)
    assert [u for _, u in names_and_users(journal)] == [1, 2, 3, 4, 5]
    journal.close()


def test_redelivered_messages_are_not_journaled_twice(tmp_path: Path, bus_redis: BusRedis) -> None:
    stream = bus_redis.stream()
    journal = SqliteJournal(tmp_path / "journal.db")
    for i in range(10):
        bus_redis.publish(stream, event(i))
    same_id = str(uuid.uuid1())
    bus_redis.publish(stream, event(100), message_id=same_id)
    bus_redis.publish(stream, event(100), message_id=same_id)  # a producer-side duplicate
    reader = source(journal, bus_redis)
    run_until(reader, lambda: reader.counts["accepted"] + reader.counts["duplicates"] == 12)
    assert reader.counts["accepted"] == 11 and reader.counts["duplicates"] == 1
    # The group hands everything out again (as after a crash between commit and XACK).
    bus_redis.client.xgroup_setid(stream, GROUP, "0")
    again = source(journal, bus_redis)
    run_until(again, lambda: again.counts["duplicates"] == 12)
    assert again.counts["accepted"] == 0
    assert len(names_and_users(journal)) == 11
    assert bus_redis.pending(stream, GROUP) == 0
    journal.close()


def test_committed_then_trimmed_is_not_reported_lost(tmp_path: Path, bus_redis: BusRedis) -> None:
    stream = bus_redis.stream()
    ids = [bus_redis.publish(stream, event(i)) for i in range(3)]
    journal = SqliteJournal(tmp_path / "journal.db")
    reader = source(journal, bus_redis)
    run_until(reader, lambda: reader.counts["accepted"] == 3)
    # As if the router died after its commit but before XACK, then the producer trimmed.
    bus_redis.client.xgroup_setid(stream, GROUP, "0")
    bus_redis.client.xreadgroup(GROUP, "router-a", {stream: ">"}, count=3)
    bus_redis.client.xdel(stream, ids[1])
    again = source(journal, bus_redis)
    run_until(again, lambda: again.counts["duplicates"] == 3)
    assert again.counts["trimmed"] == 0 and again.counts["accepted"] == 0
    assert bus_redis.pending(stream, GROUP) == 0
    journal.close()


def test_kill_9_mid_stream_loses_and_repeats_nothing(tmp_path: Path, bus_redis: BusRedis) -> None:
    stream = bus_redis.stream()
    total = 20_000
    bus_redis.publish_many(stream, [event(i) for i in range(total)])
    env = {
        "EVENT_ROUTER_REDIS_URL": bus_redis.url,
        "EVENT_ROUTER_BUS_TOPIC": "analytics",
        "EVENT_ROUTER_BUS_PREFIX": bus_redis.prefix,
    }
    router = Router(tmp_path / "home", environment=env)
    router.start()
    wait_until(
        lambda: router.status()["journal"]["head"] >= 2000,
        30,
        "router ingests nothing from the bus",
        interval=0.005,
    )
    router.kill()
    router.start()
    wait_until(
        lambda: not (bus_redis.pending(stream, GROUP) or _lag(bus_redis, stream)),
        60,
        "router does not finish the stream",
    )
    counts = router.status()["source_counts"][f"bus:{stream}:{GROUP}"]
    router.stop()
    journal = SqliteJournal(tmp_path / "home" / "journal.db")
    users = [u for _, u in names_and_users(journal)]
    journal.close()
    assert sorted(users) == list(range(total))  # each exactly once, whatever the kill interrupted
    assert 0 < counts["accepted"] <= total - 2000  # the restart took over where the kill left


def _lag(bus: BusRedis, stream: str) -> int:
    """Entries not yet delivered to the group (Redis 7 `lag`)."""
    groups = bus.client.xinfo_groups(stream)
    return int(groups[0]["lag"] or 0) if groups else 1


def test_resumes_own_pending_entries_first(tmp_path: Path, bus_redis: BusRedis) -> None:
    stream = bus_redis.stream()
    for i in range(5):
        bus_redis.publish(stream, event(i))
    bus_redis.client.xgroup_create(stream, GROUP, id="0")
    # Delivered to our consumer name but never acked: the router died before its commit.
    bus_redis.client.xreadgroup(GROUP, "router-a", {stream: ">"}, count=3)
    assert bus_redis.pending(stream, GROUP) == 3
    journal = SqliteJournal(tmp_path / "journal.db")
    reader = source(journal, bus_redis)
    run_until(reader, lambda: reader.counts["accepted"] == 5)
    assert reader.counts["resumed"] == 3
    assert [u for _, u in names_and_users(journal)] == [0, 1, 2, 3, 4]
    assert bus_redis.pending(stream, GROUP) == 0
    journal.close()


def test_claims_entries_left_pending_by_a_dead_peer(tmp_path: Path, bus_redis: BusRedis) -> None:
    stream = bus_redis.stream()
    for i in range(6):
        bus_redis.publish(stream, event(i))
    bus_redis.client.xgroup_create(stream, GROUP, id="0")
    bus_redis.client.xreadgroup(GROUP, "dead-peer", {stream: ">"}, count=4)
    journal = SqliteJournal(tmp_path / "journal.db")
    reader = source(journal, bus_redis, claim_idle=0.2, claim_every=0.1)
    run_until(reader, lambda: reader.counts["accepted"] == 6)
    assert reader.counts["claimed"] == 4
    assert sorted(u for _, u in names_and_users(journal)) == [0, 1, 2, 3, 4, 5]
    assert bus_redis.pending(stream, GROUP) == 0
    journal.close()


def test_trimmed_pending_entries_are_counted_and_acked(
    tmp_path: Path, bus_redis: BusRedis, caplog: pytest.LogCaptureFixture
) -> None:
    stream = bus_redis.stream()
    ids = [bus_redis.publish(stream, event(i)) for i in range(4)]
    bus_redis.client.xgroup_create(stream, GROUP, id="0")
    bus_redis.client.xreadgroup(GROUP, "router-a", {stream: ">"}, count=4)
    bus_redis.client.xdel(stream, ids[0], ids[2])  # trimmed before we committed them
    journal = SqliteJournal(tmp_path / "journal.db")
    reader = source(journal, bus_redis)
    with caplog.at_level(logging.ERROR, "event_router.sources.bus"):
        run_until(reader, lambda: reader.counts["accepted"] == 2 and reader.counts["trimmed"] == 2)
    assert [u for _, u in names_and_users(journal)] == [1, 3]
    assert ids[0] in caplog.text and ids[2] in caplog.text
    assert bus_redis.pending(stream, GROUP) == 0
    journal.close()


def test_other_types_skipped_malformed_kept_aside(
    tmp_path: Path, bus_redis: BusRedis, caplog: pytest.LogCaptureFixture
) -> None:
    stream = bus_redis.stream()
    bus_redis.publish(stream, event(1))
    other = Metadata("org.openedx.learning.course.enrollment.changed.v1", str(uuid.uuid1()))
    bus_redis.add(stream, entry(other, b"\x02x"))
    bad: dict[str, dict[bytes, bytes]] = {
        "no type": {b"id": b"m-1", b"event_data": b"\x02x"},
        "no body": Metadata(TRACKING_EVENT_TYPE, "m-2").fields(),
        "bad avro": entry(Metadata(TRACKING_EVENT_TYPE, "m-3"), b"\x7f\x01"),
        "bad json": _tracking(Metadata(TRACKING_EVENT_TYPE, "m-4"), data="{not json"),
        "not an event": _tracking(Metadata(TRACKING_EVENT_TYPE, "m-5"), timestamp="yesterday"),
        "trailing bytes": {
            **_tracking(Metadata(TRACKING_EVENT_TYPE, "m-6")),
            b"event_data": _tracking(Metadata(TRACKING_EVENT_TYPE, "m-6"))[b"event_data"] + b"!",
        },
    }
    bad_ids = {bus_redis.add(stream, fields): label for label, fields in bad.items()}
    bus_redis.publish(stream, event(2))
    journal = SqliteJournal(tmp_path / "journal.db")
    reader = source(journal, bus_redis)
    with caplog.at_level(logging.WARNING, "event_router.sources.bus"):
        run_until(
            reader, lambda: reader.counts["accepted"] == 2 and reader.counts["malformed"] == 6
        )
    assert reader.counts["other_types"] == 1
    assert [u for _, u in names_and_users(journal)] == [1, 2]
    kept = bus_redis.entries(reader.rejected_stream)
    assert [f[b"x-router-entry"].decode() for _, f in kept] == list(bad_ids)
    for (_, fields), (entry_id, label) in zip(kept, bad_ids.items(), strict=True):
        assert fields[b"x-router-stream"] == stream.encode()
        original = bus_redis.entries(stream, entry_id, entry_id)[0][1]
        assert {k: v for k, v in fields.items() if not k.startswith(b"x-router-")} == original
        assert entry_id in caplog.text, label
    reasons = [f[b"x-router-reason"].decode() for _, f in kept]
    assert reasons[0] == "no `type` field" and reasons[1] == "no `event_data` field"
    assert reasons[2].startswith("body is not valid Avro")
    assert reasons[3].startswith("`data` is not JSON text")
    assert "yesterday" in reasons[4] and reasons[5] == "1 bytes left after the Avro record"
    assert "(message id m-3)" in caplog.text
    assert bus_redis.pending(stream, GROUP) == 0
    journal.close()


def test_malformed_entry_is_not_acked_until_it_is_kept(tmp_path: Path, bus_redis: BusRedis) -> None:
    stream = bus_redis.stream()
    journal = SqliteJournal(tmp_path / "journal.db")
    reader = source(journal, bus_redis)
    bus_redis.client.set(reader.rejected_stream, "in the way")  # the copy cannot be written
    bus_redis.publish(stream, event(1))
    bad = bus_redis.add(stream, {b"id": b"m-1", b"event_data": b"x"})

    async def go() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(reader.run(stop))
        await until(lambda: reader.counts["redis_errors"] >= 1)
        assert bus_redis.pending(stream, GROUP) == 2  # committed the event, acked nothing
        bus_redis.client.delete(reader.rejected_stream)
        await until(lambda: reader.counts["malformed"] >= 1)
        stop.set()
        await task

    asyncio.run(asyncio.wait_for(go(), 20))
    assert bus_redis.pending(stream, GROUP) == 0
    kept = bus_redis.entries(reader.rejected_stream)
    assert [f[b"x-router-entry"].decode() for _, f in kept] == [bad]
    assert [u for _, u in names_and_users(journal)] == [1]  # once, though handled twice
    assert reader.counts["duplicates"] == 1
    journal.close()


def test_survives_redis_being_unreachable(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.db")
    reader = BusSource(journal, "redis://127.0.0.1:1/0", "analytics", consumer="x")
    run_until(reader, lambda: reader.counts["redis_errors"] >= 2, timeout=10)
    assert journal.head == 0
    journal.close()


def _tracking(
    metadata: Metadata, *, data: str = "{}", timestamp: str = "2024-03-05T10:00:00+00:00"
) -> dict[bytes, bytes]:
    from event_router.bus.wire import encode_body

    record = {"tracking_log": {"name": "x", "timestamp": timestamp, "data": data, "context": "{}"}}
    return entry(metadata, encode_body(TRACKING_EVENT_TYPE, record))
