"""The Kafka journal against a real broker (Tansu), PostgreSQL and an HTTP receiver: appends
acknowledged by Kafka and keyed by learner, the engine delivering through a consumer group with
committed offsets, order per learner kept while a batch is retried, rewind by time, status."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from event_router.delivery.engine import Engine
from event_router.delivery.partition_readers import PartitionReaders, group_name
from event_router.journal.kafka import KafkaJournal
from event_router.journal.kafka_state import JournalState
from event_router.privacy.forget import Learner, forget_in_journal
from event_router.routing.consumer import Consumer
from event_router.store import Store
from tests.peers.kafka import KafkaBus
from tests.peers.receiver import Receiver
from tests.support.wait import clock_moves_on, until

pytestmark = pytest.mark.timeout(120)


def event(i: int, learner: int) -> bytes:
    return orjson.dumps(
        {
            "name": "play_video",
            "timestamp": f"2024-03-05T10:{i // 60 % 60:02d}:{i % 60:02d}.{i + 1:06d}+00:00",
            "data": {"id": "v1", "currentTime": i, "duration": 600, "code": "x"},
            "context": {
                "user_id": learner,
                "org_id": "edX",
                "course_id": "course-v1:edX+DemoX+Demo_Course",
            },
        }
    )


@pytest.fixture
def journal(kafka_bus: KafkaBus, control_plane: str, store: Store) -> Iterator[KafkaJournal]:
    opened = journal_at(kafka_bus, control_plane, partitions=4)
    yield opened
    opened.close()


def journal_at(bus: KafkaBus, control_plane: str, **options: Any) -> KafkaJournal:
    url = f"kafka://{bus.bootstrap}/{bus.prefix}"
    return KafkaJournal(url, JournalState(control_plane), bus.settings(), **options)


def engine_for(journal: KafkaJournal, store: Store, member: str = "member-a") -> Engine:
    readers = PartitionReaders(journal, member=member, poll_interval=0.1, session_timeout=6)
    return Engine(
        readers, store, lms_url="http://localhost:18000", secret_key="k", poll_interval=0.1
    )


def running(engine: Engine, scenario: Callable[[], Awaitable[None]]) -> None:
    async def go() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(engine.run(stop))
        try:
            await scenario()
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)

    asyncio.run(go())


def stamps(receiver: Receiver) -> list[str]:
    """The statements' timestamps, in the order the receiver first stored them."""
    seen: dict[str, str] = {}
    for received in receiver.received:
        seen.setdefault(received.id, received.item["timestamp"])
    return list(seen.values())


def test_appends_are_acknowledged_keyed_by_learner_with_positions(
    journal: KafkaJournal, kafka_bus: KafkaBus
) -> None:
    bodies = [event(i, learner=i % 3) for i in range(30)]
    first, last = journal.submit(bodies, ("tracking:x", "42"), seen=("s", ["a", "b"])).result(30)
    assert first != last
    assert journal.position("tracking:x") == "42"
    assert journal.seen("s", ["a", "b", "c"]) == {"a", "b"}
    records = kafka_bus.read(journal.topic, 30)
    partitions: dict[bytes, set[int]] = {}
    for record in records:
        partitions.setdefault(record.key(), set()).add(record.partition())
    assert set(partitions) == {b"0", b"1", b"2"}
    assert all(len(p) == 1 for p in partitions.values()), partitions
    for key in partitions:  # in each learner's partition, the learner's events in order
        times = [orjson.loads(r.value())["timestamp"] for r in records if r.key() == key]
        assert times == sorted(times)
        assert len(times) == 10


def test_the_engine_delivers_once_and_commits_offsets(
    journal: KafkaJournal, store: Store, receiver: Receiver, kafka_bus: KafkaBus
) -> None:
    store.consumers.add(
        Consumer(name="lrs", protocol="xapi", url=receiver.url + "/xapi/statements", linger=0.01)
    )
    clock_moves_on()  # a new millisecond: the events are later than the consumer
    journal.submit([event(i, i % 7) for i in range(200)]).result(30)
    engine = engine_for(journal, store)

    async def scenario() -> None:
        await until(lambda: len(receiver.stored) >= 200, message="not all delivered")
        await until(lambda: engine.snapshot()["lrs"]["delivered"] == 200)

    running(engine, scenario)
    assert receiver.duplicates == {}
    group = group_name(kafka_bus.prefix, "lrs")
    committed = kafka_bus.committed(journal.topic, group, 4)
    counts = [0] * 4
    for record in kafka_bus.read(journal.topic, 200):
        counts[record.partition()] += 1
    assert committed == [c if c else -1001 for c in counts]


def test_a_retried_batch_is_never_overtaken_by_a_later_one_of_its_partition(
    kafka_bus: KafkaBus, control_plane: str, store: Store, receiver: Receiver
) -> None:
    """One learner, one partition, four batches allowed in flight: the first request is
    refused three times; without the partition gate the batches read after it would be stored
    while it waits for its retry, and the learner's statements would arrive out of order."""
    journal = journal_at(kafka_bus, control_plane, partitions=1)
    try:
        store.consumers.add(
            Consumer(
                name="lrs",
                protocol="xapi",
                url=receiver.url + "/xapi/statements",
                batch_size=10,
                max_in_flight=4,
                linger=0.01,
            )
        )
        clock_moves_on()  # a new millisecond: the events are later than the consumer
        journal.submit([event(i, learner=5) for i in range(120)]).result(30)
        receiver.fail_next(3, 503)
        engine = engine_for(journal, store)

        async def scenario() -> None:
            await until(lambda: len(receiver.stored) >= 120, message="not all delivered")

        running(engine, scenario)
        assert receiver.requests > 3 and receiver.exchanges[0].status == 503
        order = stamps(receiver)
        assert len(order) == 120
        assert order == sorted(order), "a later batch was stored before an earlier one"
    finally:
        journal.close()


def test_rewind_sends_again_and_status_shows_the_cluster(
    journal: KafkaJournal,
    store: Store,
    receiver: Receiver,
    kafka_bus: KafkaBus,
    control_plane: str,
    tmp_path: Path,
) -> None:
    store.consumers.add(
        Consumer(name="lrs", protocol="xapi", url=receiver.url + "/xapi/statements", linger=0.01)
    )
    clock_moves_on()  # a new millisecond: the events are later than the consumer
    journal.submit([event(i, i % 4) for i in range(40)]).result(30)
    engine = engine_for(journal, store, member="member-x")
    env = {
        "EVENT_ROUTER_JOURNAL": f"kafka://{kafka_bus.bootstrap}/{kafka_bus.prefix}",
        "EVENT_ROUTER_DATABASE_URL": control_plane,
        "EVENT_ROUTER_HOME": str(tmp_path / "home"),
        "PATH": "",
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "event_router", *args],
            env=env, capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip

    async def scenario() -> None:
        await until(lambda: len(receiver.stored) >= 40, message="not all delivered")
        receiver.reset()
        await asyncio.to_thread(cli, "consumers", "rewind", "lrs", "--since", "1h")
        await until(lambda: len(receiver.stored) >= 40, message="rewind sent nothing again")
        await until(lambda: engine.snapshot()["lrs"]["cluster"]["processes"] == 1)
        shown = await asyncio.to_thread(cli, "status", "--json")
        report = orjson.loads(shown.stdout)
        assert report["journal"]["kind"] == "kafka"
        assert report["processes"] == ["member-x"]
        row = report["consumers"]["lrs"]
        assert row["processes"] == 1 and row["delivered"] >= 40

    running(engine, scenario)
    group = group_name(kafka_bus.prefix, "lrs")
    committed = kafka_bus.committed(journal.topic, group, 4)
    assert sum(max(0, c) for c in committed) == 40


def test_forgetting_a_learner_says_the_kafka_log_keeps_their_events(
    journal: KafkaJournal, kafka_bus: KafkaBus
) -> None:
    """A Kafka log cannot be rewritten: the answer says so instead of claiming a redaction,
    and the journaled events are indeed still there."""
    journal.submit([event(i, learner=9) for i in range(3)]).result(30)
    done = forget_in_journal(journal, Learner.of("9", None))
    assert done == {"kind": "kafka", "events": 0, "action": "kept until Kafka's retention"}
    assert len(kafka_bus.read(journal.topic, 3)) == 3


def test_the_event_inspector_says_it_cannot_search_a_kafka_journal(
    journal: KafkaJournal, store: Store
) -> None:
    """Not a 500: a clear answer saying the inspector searches other journals."""
    from starlette.testclient import TestClient

    from event_router.web.app import create_app

    journal.submit([event(1, 7)]).result(timeout=30)
    store.users.add("ops", "ops-password", "admin")
    _, token = store.tokens.create("ops", "inspect")
    app = create_app(
        journal, None, ingest_token=None, max_body_bytes=1 << 20, store=store, secret_key="k"
    )
    client = TestClient(app, raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {token}"
    for path in ("/api/v1/journal/events", "/api/v1/journal/events/1"):
        answer = client.get(path)
        assert answer.status_code == 501, (path, answer.text)
        assert "not the Kafka journal" in answer.json()["error"]
