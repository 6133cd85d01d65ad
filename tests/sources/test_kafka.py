"""The Kafka source against a real broker (Tansu) and the stand-in schema registry: the REAL
edx-event-bus-kafka producer, commit-then-commit, resume, kill -9, bad records kept aside."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from event_router.bus.wire import TRACKING_EVENT_TYPE, Metadata, encode_body
from event_router.journal import SqliteJournal
from event_router.kafka.framing import frame, headers, schema_text, value_subject
from event_router.sources.kafka import KafkaSource
from tests.peers.kafka import KafkaBus
from tests.peers.router import Router
from tests.support.sources import LMS_EVENTS, event, names_and_users, run_until
from tests.support.wait import until, wait_until

pytestmark = pytest.mark.timeout(180)


def source(journal: SqliteJournal, bus: KafkaBus, **options: Any) -> KafkaSource:
    settings = bus.settings(**options.pop("settings", {}))
    options.setdefault("poll", 0.2)
    return KafkaSource(
        journal, settings, "analytics", prefix=bus.prefix, group=bus.group, **options
    )


def produce(bus: KafkaBus, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Publish through the LMS's path into edx-event-bus-kafka; the events as the tracker sent
    them (the last line, the library versions, is checked and dropped)."""
    args = [bus.bootstrap, bus.registry.url, bus.prefix, "analytics"]
    out = subprocess.run(
        [sys.executable, "-m", "tests.peers.openedx_kafka", "produce", *args],
        input="\n".join(json.dumps(e) for e in events),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert lines[-1]["versions"]["edx_event_bus_kafka"]
    return lines[:-1]


def test_real_producer_every_event_once(tmp_path: Path, kafka_bus: KafkaBus) -> None:
    topic = kafka_bus.topic()
    kafka_bus.create_topic(topic, partitions=4)  # keyed by event name: spread over partitions
    videos = [
        {
            "name": "play_video",
            "data": {
                "id": "0b9e39477cf34507a7a48f74be381fdd",
                "currentTime": i,
                "duration": 600,
                "code": "html5",
            },
            "context": {**LMS_EVENTS[0]["context"], "event_source": "browser"},
        }
        for i in range(30)
    ]
    emitted = produce(kafka_bus, LMS_EVENTS + videos)
    assert len(emitted) == len(LMS_EVENTS) + 30
    journal = SqliteJournal(tmp_path / "journal.db")
    reader = source(journal, kafka_bus)
    run_until(reader, lambda: reader.counts["accepted"] == len(emitted))
    entries, bad = journal.read(0, 1000)
    assert bad == []
    got = [e.event.as_dict() for e in entries]
    # Order holds per partition (per event name), not across the topic.
    assert sorted(got, key=json.dumps) == sorted(emitted, key=json.dumps)
    videos_got = [g for g in got if g["name"] == "play_video"]
    assert videos_got == [e for e in emitted if e["name"] == "play_video"]
    assert not reader.counts["malformed"] and not reader.counts["duplicates"]
    # The writer schema came from the registry, by the id in each record's header.
    assert any(p.startswith("/schemas/ids/") for _, p, _ in kafka_bus.registry.requests)
    assert reader.counts["shipped_schema"] == 0
    # Offsets committed for every partition that had records, and the journal agrees.
    committed = kafka_bus.committed(topic, kafka_bus.group, 4)
    positions = [journal.position(reader.position_id(p)) for p in range(4)]
    for offset, position in zip(committed, positions, strict=True):
        assert (offset < 0 and position is None) or str(offset) == position
    assert sum(o for o in committed if o > 0) == len(emitted)
    journal.close()


def test_restart_resumes_without_loss_or_repeat(tmp_path: Path, kafka_bus: KafkaBus) -> None:
    topic = kafka_bus.topic()
    kafka_bus.create_topic(topic, partitions=2)
    kafka_bus.publish(topic, [event(i) for i in range(20)])
    journal = SqliteJournal(tmp_path / "journal.db")
    first = source(journal, kafka_bus)
    run_until(first, lambda: first.counts["accepted"] == 20)
    kafka_bus.publish(topic, [event(i) for i in range(20, 35)])  # while the router is down
    again = source(journal, kafka_bus)
    run_until(again, lambda: again.counts["accepted"] == 15)
    assert sorted(u for _, u in names_and_users(journal)) == list(range(35))
    assert again.counts["duplicates"] == 0
    journal.close()


def test_journal_position_wins_over_a_lagging_kafka_commit(
    tmp_path: Path, kafka_bus: KafkaBus
) -> None:
    """A crash after the journal commit but before Kafka's: the records come back from Kafka,
    and the partition starts at the journal's position instead (nothing read twice)."""
    topic = kafka_bus.topic()
    kafka_bus.create_topic(topic, partitions=1)
    kafka_bus.publish(topic, [event(i) for i in range(10)])
    journal = SqliteJournal(tmp_path / "journal.db")
    first = source(journal, kafka_bus)
    run_until(first, lambda: first.counts["accepted"] == 10)
    assert kafka_bus.committed(topic, kafka_bus.group) == [10]
    rewind = kafka_bus.consumer(kafka_bus.group)  # Kafka's commit lags: as if it never happened
    from confluent_kafka import TopicPartition

    rewind.commit(offsets=[TopicPartition(topic, 0, 3)], asynchronous=False)
    rewind.close()
    kafka_bus.publish(topic, [event(10)])
    again = source(journal, kafka_bus)
    run_until(again, lambda: again.counts["accepted"] == 1)
    assert again.counts["duplicates"] == 0  # offsets 3..9 were not even read again
    assert kafka_bus.committed(topic, kafka_bus.group) == [11]
    assert [u for _, u in names_and_users(journal)] == list(range(11))
    journal.close()


def test_duplicates_other_types_and_bad_records(
    tmp_path: Path, kafka_bus: KafkaBus, caplog: pytest.LogCaptureFixture
) -> None:
    topic = kafka_bus.topic()
    kafka_bus.create_topic(topic, partitions=1)
    same = str(uuid.uuid1())
    kafka_bus.publish(topic, [event(1), event(1)], ids=[same, same])  # a producer's retry
    value_id = kafka_bus.registry.register(
        value_subject(topic, TRACKING_EVENT_TYPE), schema_text(TRACKING_EVENT_TYPE)
    )
    good = headers(Metadata(TRACKING_EVENT_TYPE, "m-0"))
    body = encode_body(TRACKING_EVENT_TYPE, _log())
    other = headers(Metadata("org.openedx.learning.course.enrollment.changed.v1", "o-1"))
    bad: dict[str, tuple[bytes | None, list[tuple[str, bytes]]]] = {
        "no type": (frame(value_id, body), [h for h in good if h[0] != "ce_type"]),
        "two ids": (frame(value_id, body), [*good, ("ce_id", b"m-x")]),
        "not framed": (body, headers(Metadata(TRACKING_EVENT_TYPE, "m-2"))),
        "bad avro": (frame(value_id, b"\x7f\x01"), headers(Metadata(TRACKING_EVENT_TYPE, "m-3"))),
        "unknown id": (frame(9999, b"\x02x"), headers(Metadata(TRACKING_EVENT_TYPE, "m-4"))),
        "bad json": (
            frame(value_id, encode_body(TRACKING_EVENT_TYPE, _log(data="{no"))),
            headers(Metadata(TRACKING_EVENT_TYPE, "m-5")),
        ),
    }
    kafka_bus.produce(topic, frame(value_id, b"\x02x"), headers=other)
    for value, record_headers in bad.values():
        kafka_bus.produce(topic, value, headers=record_headers, key=b"k")
    kafka_bus.publish(topic, [event(2)])
    journal = SqliteJournal(tmp_path / "journal.db")
    reader = source(journal, kafka_bus)
    with caplog.at_level(logging.WARNING, "event_router.sources.kafka"):
        run_until(
            reader, lambda: reader.counts["accepted"] == 2 and reader.counts["malformed"] == 6
        )
    assert reader.counts["duplicates"] == 1 and reader.counts["other_types"] == 1
    assert [u for _, u in names_and_users(journal)] == [1, 2]
    kept = kafka_bus.read(reader.rejected_topic, 6)
    reasons = []
    for message, (label, (value, record_headers)) in zip(kept, bad.items(), strict=True):
        extra = dict(message.headers()[len(record_headers) :])
        assert message.headers()[: len(record_headers)] == record_headers, label
        assert message.value() == value and message.key() == b"k", label
        assert extra[b"x-router-topic".decode()] == topic.encode()
        offset = extra["x-router-offset"].decode()
        assert f"offset {offset}" in caplog.text, label
        reasons.append(extra["x-router-reason"].decode())
    assert reasons[0] == "no `ce_type` header"
    assert reasons[1] == "header 'ce_id' appears 2 times"
    assert reasons[2].startswith("value is not Confluent-framed")
    assert reasons[3].startswith("body is not valid Avro")
    assert reasons[4] == "schema id 9999 is unknown to the registry"
    assert reasons[5].startswith("`data` is not JSON text")
    assert "(message id m-3)" in caplog.text
    assert kafka_bus.committed(topic, kafka_bus.group) == [10]  # everything read is committed
    journal.close()


def test_registry_down_falls_back_to_the_shipped_schema(
    tmp_path: Path, kafka_bus: KafkaBus
) -> None:
    topic = kafka_bus.topic()
    kafka_bus.create_topic(topic, partitions=1)
    kafka_bus.publish(topic, [event(i) for i in range(3)])
    kafka_bus.registry.down()
    journal = SqliteJournal(tmp_path / "journal.db")
    reader = source(journal, kafka_bus)
    run_until(reader, lambda: reader.counts["accepted"] == 3)
    assert reader.counts["shipped_schema"] == 3 and reader.counts["malformed"] == 0
    journal.close()


def test_two_members_share_the_partitions_and_take_over(
    tmp_path: Path, kafka_bus: KafkaBus
) -> None:
    """Two readers in one group on one journal (as two router processes on a shared journal):
    Kafka splits the partitions between them, each event is journaled once, and when one stops
    the other takes its partitions over from the positions it left."""
    topic = kafka_bus.topic()
    kafka_bus.create_topic(topic, partitions=4)
    journal = SqliteJournal(tmp_path / "journal.db")
    a, b = source(journal, kafka_bus), source(journal, kafka_bus)
    names = [f"event.{k}" for k in range(8)]  # eight keys over four partitions

    def batch(start: int, count: int) -> list[dict[str, Any]]:
        return [{**event(i), "name": names[i % 8]} for i in range(start, start + count)]

    async def go() -> None:
        stop_a, stop_b = asyncio.Event(), asyncio.Event()
        tasks = [asyncio.create_task(a.run(stop_a)), asyncio.create_task(b.run(stop_b))]
        await until(lambda: a.assigned and b.assigned and len(a.assigned | b.assigned) == 4)
        assert not a.assigned & b.assigned
        await asyncio.to_thread(kafka_bus.publish, topic, batch(0, 400))
        await until(lambda: a.counts["accepted"] + b.counts["accepted"] == 400)
        assert a.counts["accepted"] and b.counts["accepted"]
        stop_b.set()
        await tasks[1]
        await asyncio.to_thread(kafka_bus.publish, topic, batch(400, 400))
        await until(lambda: a.counts["accepted"] + b.counts["accepted"] == 800)
        assert a.assigned == {0, 1, 2, 3}
        stop_a.set()
        await tasks[0]

    asyncio.run(asyncio.wait_for(go(), 120))
    assert sorted(u for _, u in names_and_users(journal)) == list(range(800))
    assert a.counts["duplicates"] == b.counts["duplicates"] == 0
    journal.close()


def test_kill_9_mid_stream_loses_and_repeats_nothing(tmp_path: Path, kafka_bus: KafkaBus) -> None:
    """The LMS publishes through edx-event-bus-kafka while the router reads; the router is killed
    (SIGKILL) mid-stream and restarted: every event is in the journal exactly once."""
    topic = kafka_bus.topic()
    kafka_bus.create_topic(topic, partitions=3)
    total = 8000
    names = ("edx.course.enrollment.activated", "play_video", "problem_check")  # 3 keys
    events = [
        {**event(i), "name": names[i % 3]} for i in range(total)
    ]  # the learner (user_id i) tells them apart
    router = Router(tmp_path / "home", environment=kafka_bus.env())
    router.start()
    args = [kafka_bus.bootstrap, kafka_bus.registry.url, kafka_bus.prefix, "analytics"]
    sent, emitted = tmp_path / "events.ndjson", tmp_path / "emitted.ndjson"
    sent.write_text("\n".join(json.dumps(e) for e in events))
    with sent.open() as stdin, emitted.open("w") as stdout:
        lms = subprocess.Popen(
            [sys.executable, "-m", "tests.peers.openedx_kafka", "produce", *args],
            stdin=stdin,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
        )
    head = wait_until(
        lambda: (h := router.status()["journal"]["head"]) >= 1500 and h,
        90,
        "router ingests nothing from Kafka",
        interval=0.005,
    )
    router.kill()
    assert head < total  # killed mid-stream (and the LMS, usually, still publishing)
    router.start()
    _, err = lms.communicate(timeout=120)
    assert lms.returncode == 0, err[-2000:]
    assert len(emitted.read_text().splitlines()) == total + 1  # every event, then the versions
    wait_until(
        lambda: router.status()["journal"]["head"] >= total, 120, "router does not finish the topic"
    )
    counts = router.status()["source_counts"][f"kafka:{topic}:{kafka_bus.group}"]
    router.stop()
    journal = SqliteJournal(tmp_path / "home" / "journal.db")
    users = [u for _, u in names_and_users(journal)]
    journal.close()
    assert sorted(users) == list(range(total))  # each exactly once, whatever the kill interrupted
    assert 0 < counts["accepted"] <= total - 1500  # the restart took over where the kill left
    assert sum(o for o in kafka_bus.committed(topic, kafka_bus.group, 3) if o > 0) == total


def _log(data: str = "{}") -> dict[str, Any]:
    return {
        "tracking_log": {
            "name": "x",
            "timestamp": "2024-03-05T10:00:00+00:00",
            "data": data,
            "context": "{}",
        }
    }
