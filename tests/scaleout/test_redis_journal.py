"""The Redis journal against the real Redis: atomic commits, positions per node, idempotency keys,
refusals that write nothing, and the tracking-log and bus sources running on it unchanged."""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

from event_router.events import parse_json
from event_router.journal import JournalFull
from event_router.journal.redis import RedisJournal, entry_seq, to_entry
from event_router.sources.bus import BusSource
from event_router.sources.tracking_log import TrackingLogSource
from tests.peers.bus import BusRedis
from tests.support.databases import JournalRedis, stream_entries
from tests.support.sources import run_until
from tests.support.wait import clock_moves_on

pytestmark = pytest.mark.timeout(60)


def event(i: int) -> bytes:
    return orjson.dumps(
        {
            "name": "edx.course.enrollment.activated",
            "timestamp": f"2024-03-05T10:00:{i % 60:02d}.{i + 1:06d}+00:00",
            "data": {"course_id": "course-v1:edX+DemoX+Demo_Course", "user_id": i},
            "context": {"user_id": i, "course_id": "course-v1:edX+DemoX+Demo_Course"},
        }
    )


def entries(journal: JournalRedis) -> list[tuple[str, dict[bytes, bytes]]]:
    rows: Any = journal.client.xrange(journal.stream)
    return [(row[0].decode(), row[1]) for row in rows]


def test_an_append_commits_events_position_and_count_together(journal_redis: JournalRedis) -> None:
    journal = RedisJournal(journal_redis.url, journal_redis.prefix, node="host-a")
    try:
        bodies = [event(i) for i in range(3)]
        first, last = journal.submit(bodies, ("file:/log", '{"offset": 42}')).result(10)
        rows = entries(journal_redis)
        assert [fields[b"b"] for _, fields in rows] == bodies
        assert {fields[b"n"] for _, fields in rows} == {b"edx.course.enrollment.activated"}
        assert (first, last) == (entry_seq(rows[0][0]), entry_seq(rows[-1][0]))
        assert journal.head == 3
        assert journal.position("file:/log") == '{"offset": 42}'
        assert journal.positions() == {"file:/log": '{"offset": 42}'}
        entry = to_entry(*rows[1])
        assert entry.event.data["user_id"] == 1
        assert entry.ingested_at == pytest.approx(time.time(), abs=60)  # the server's clock
    finally:
        journal.close()
    # Another machine shares the stream and the count, not this machine's file positions.
    other = RedisJournal(journal_redis.url, journal_redis.prefix, node="host-b")
    try:
        assert other.head == 3
        assert other.position("file:/log") is None
        asyncio.run(other.append([event(3)], ("file:/log", '{"offset": 7}')))
        assert other.head == 4
        assert other.positions() == {"file:/log": '{"offset": 7}'}
    finally:
        other.close()


def test_entry_numbers_are_ordered_like_ids_and_never_collide() -> None:
    ids = ["1700000000000-0", "1700000000000-1", "1700000000000-2097151", "1700000000001-0"]
    numbers = [entry_seq(i) for i in ids]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == len(numbers)
    assert numbers[-1] < 2**63  # fits the store's BIGINT (dead letters keep it)
    # The sequence part overflows only after two million entries in one millisecond: a unique
    # negative number then, never another entry's.
    odd = [entry_seq("1700000000000-2097152"), entry_seq("1700000000000-2097153")]
    assert all(n < 0 for n in odd) and len(set(odd)) == 2


def test_idempotency_keys_are_committed_and_forgotten_oldest_first(
    journal_redis: JournalRedis,
) -> None:
    journal = RedisJournal(journal_redis.url, journal_redis.prefix)
    try:
        journal.submit([event(0)], None, None, None, ("bus:x", ["m1", "m2"])).result(10)
        journal.submit([event(1)], None, None, None, ("bus:x", ["m3"])).result(10)
        assert journal.seen("bus:x", ["m1", "m3", "m9"]) == {"m1", "m3"}
        assert journal.seen("bus:other", ["m1"]) == set()
        assert journal.forget_seen("bus:x", keep=1) == 2
        assert journal.seen("bus:x", ["m1", "m2", "m3"]) == {"m3"}
        with pytest.raises(ValueError, match="no cursors"):
            journal.submit([], None, {"lrs": 3})
    finally:
        journal.close()


def test_a_refused_commit_writes_nothing_and_says_why(journal_redis: JournalRedis) -> None:
    """A user that may not XADD (as an out-of-memory server refuses writes): the whole
    transaction is refused, the position does not move, and the caller gets JournalFull."""
    user, password = f"router-test-{uuid.uuid4().hex[:8]}", secrets.token_hex(8)
    client = journal_redis.client
    client.acl_setuser(
        user,
        enabled=True,
        passwords=[f"+{password}"],
        keys=[f"{journal_redis.prefix}:*"],
        commands=["+@all", "-xadd"],
    )
    url = f"redis://{user}:{password}@127.0.0.1:6379/0"
    journal = RedisJournal(url, journal_redis.prefix)
    try:
        with pytest.raises(JournalFull, match="journal write failed"):
            asyncio.run(journal.append([event(0)], ("file:/log", '{"offset": 1}')))
        assert journal.position("file:/log") is None
        assert journal.head == 0
        assert entries(journal_redis) == []
    finally:
        journal.close()
        client.acl_deluser(user)


def test_an_unreachable_server_is_a_clear_error_without_the_password() -> None:
    with pytest.raises(JournalFull, match="not reachable") as caught:
        RedisJournal("redis://router:s3cret@127.0.0.1:1/0", "nowhere", socket_timeout=2)
    assert "redis://router:***@127.0.0.1:1/0" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_the_tracking_log_source_resumes_on_redis_without_repeats(
    tmp_path: Path, journal_redis: JournalRedis
) -> None:
    log = tmp_path / "tracking.log"
    prefix = b"2024-03-05 10:00:00,000 INFO 20 [tracking] logger.py:41 - "
    log.write_bytes(b"".join(prefix + event(i) + b"\n" for i in range(5)))
    journal = RedisJournal(journal_redis.url, journal_redis.prefix)
    try:
        run_until(TrackingLogSource(log, journal), lambda: len(entries(journal_redis)) == 5)
        with log.open("ab") as handle:
            handle.write(b"".join(prefix + event(i) + b"\n" for i in range(5, 8)))
        again = TrackingLogSource(log, journal)
        run_until(again, lambda: len(entries(journal_redis)) >= 8)  # and stopped: no more come
        users = [parse_json(f[b"b"]).data["user_id"] for _, f in entries(journal_redis)]
        assert users == list(range(8))
        assert again.counts["accepted"] == 3
    finally:
        journal.close()


def test_the_bus_source_on_redis_takes_each_message_once(journal_redis: JournalRedis) -> None:
    bus = BusRedis(journal_redis.client)
    bus.prefix = f"{journal_redis.prefix}:bus"
    stream = bus.stream()
    messages = [str(uuid.uuid4()) for _ in range(5)]
    for i, message in enumerate(messages):
        bus.publish(stream, orjson.loads(event(i)), message_id=message)
    journal = RedisJournal(journal_redis.url, journal_redis.prefix)
    try:
        reader = BusSource(journal, bus.url, "analytics", prefix=bus.prefix, block=0.05)
        run_until(reader, lambda: len(entries(journal_redis)) == 5)
        for i, message in enumerate(messages[:2]):  # the producer sends two again
            bus.publish(stream, orjson.loads(event(i)), message_id=message)
        again = BusSource(journal, bus.url, "analytics", prefix=bus.prefix, block=0.05)
        run_until(again, lambda: again.counts["duplicates"] == 2)
        assert len(entries(journal_redis)) == 5
        assert bus.pending(stream, "event-router") == 0
        assert again.consumer == reader.consumer  # kept in this node's positions
    finally:
        journal.close()
        bus.cleanup()


BODY = b'{"name": "a", "time": "2024-01-01T00:00:00+00:00"}'


def test_a_consumer_group_reads_again_from_a_time(journal_redis: JournalRedis) -> None:
    """`consumers rewind` in scale-out mode: the group's last-delivered id moves back."""
    journal = RedisJournal(journal_redis.url, journal_redis.prefix)
    client = journal_redis.client
    try:
        journal.submit([BODY] * 3).result()
        clock_moves_on()  # entry ids are milliseconds: the moment falls between the two lots
        moment = time.time()
        clock_moves_on()
        journal.submit([BODY] * 2).result()
        client.xgroup_create(journal.stream, "lrs", id="$")  # as if everything was delivered
        entries = stream_entries(client, journal.stream)
        last = journal.rewind_group("lrs", moment)
        assert last == entries[2][0].decode()  # the last one before the moment
        again: Any = client.xreadgroup("lrs", "m", {journal.stream: ">"})
        got = [orjson.loads(fields[b"b"]) for _, fields in again[0][1]]
        assert len(got) == 2
        assert journal.rewind_group("lrs", -1e12) == "0-0"  # before anything: from the start
    finally:
        journal.close()
