"""The Kafka sink against a real broker (Tansu) and the stand-in schema registry, read back with a
plain confluent-kafka consumer (keys, partitions, headers, framing) and with the REAL
edx-event-bus-kafka consumer (`KafkaEventConsumer`, the signals declared via openedx-events)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import fastavro
import pytest

from event_router.bus.wire import (
    CALIPER_EVENT_TYPE,
    SOURCE_LIB,
    XAPI_EVENT_TYPE,
)
from event_router.kafka.framing import decode_value, read_headers, unframe, value_subject
from event_router.routing.consumer import Consumer
from event_router.sinks import SinkError, Verdict, build_sink
from event_router.sinks.kafka import KafkaSink
from tests.peers.kafka import KafkaBus
from tests.peers.payloads import LMS, caliper_event, encode, send, statement
from tests.peers.router import Router
from tests.support.reference import expected_ids
from tests.support.traffic import play

pytestmark = pytest.mark.timeout(180)


def kafka_consumer(
    bus: KafkaBus, protocol: str = "xapi", query: str = "", **extra: Any
) -> Consumer:
    url = f"kafka://{bus.bootstrap}?prefix={bus.prefix}&registry={bus.registry.url}"
    url += f"&{query}" if query else ""
    return Consumer(name=f"kafka-{protocol}", protocol=protocol, sink="kafka", url=url, **extra)


def learner(name: str, **extra: Any) -> dict[str, Any]:
    actor = {"objectType": "Agent", "account": {"homePage": LMS, "name": name}}
    return statement(actor=actor, **extra)


def test_records_keyed_by_learner_framed_with_headers(kafka_bus: KafkaBus) -> None:
    topic = kafka_bus.topic("xapi")
    kafka_bus.create_topic(topic, partitions=4)
    learners = [f"learner-{i}" for i in range(12)]
    sent = [learner(learners[i % 12]) for i in range(60)]
    outcomes = send(
        kafka_consumer(kafka_bus), *(encode(*sent[i : i + 10]) for i in range(0, 60, 10))
    )
    assert [o.verdict for o in outcomes] == [Verdict.DELIVERED] * 6
    records = kafka_bus.read(topic, 60)
    registry = kafka_bus.registry
    value_ids = registry.subjects[value_subject(topic, XAPI_EVENT_TYPE)]
    key_ids = registry.subjects[f"{topic}-string"]
    partitions: dict[str, set[int]] = defaultdict(set)
    order: dict[str, list[str]] = defaultdict(list)
    for record in records:
        names = [name for name, _ in record.headers()]
        assert names == [
            "ce_specversion", "content-type", "ce_datacontenttype", "ce_type", "ce_id",
            "ce_source", "ce_time", "ce_minorversion", "sourcehost", "sourcelib",
        ]  # fmt: skip
        assert dict(record.headers())["content-type"] == b"application/avro"
        meta = read_headers(record.headers())
        assert meta.event_type == XAPI_EVENT_TYPE and uuid.UUID(meta.id or "").version == 5
        assert meta.source == "openedx/event-router/web" and meta.sourcelib == SOURCE_LIB
        assert meta.time is not None and meta.time.endswith("+00:00")
        schema_id, body = unframe(record.value())
        assert [schema_id] == value_ids
        writer = fastavro.parse_schema(json.loads(registry.schemas[schema_id]))
        data = decode_value(XAPI_EVENT_TYPE, body, writer)["xapi_statement"]
        statement_ = json.loads(data["statement"])
        assert data["id"] == statement_["id"]
        key_id, key_body = unframe(record.key())
        assert [key_id] == key_ids
        key = fastavro.schemaless_reader(io.BytesIO(key_body), "string", None)
        assert isinstance(key, str)
        assert key == f"{LMS}|{statement_['actor']['account']['name']}"
        partitions[key].add(record.partition())
        order[key].append(data["id"])
    assert all(len(p) == 1 for p in partitions.values())  # one learner, one partition
    assert len(set().union(*partitions.values())) > 1  # and learners spread over partitions
    for key, ids in order.items():  # in the order they were sent
        assert ids == [s["id"] for s in sent if key.endswith("|" + s["actor"]["account"]["name"])]
    # A re-sent statement keeps its message id, so readers can drop the copy.
    send(kafka_consumer(kafka_bus), encode(sent[0]))
    again = kafka_bus.read(topic, 61)
    first = next(r for r in again if json.loads(_statement(r))["id"] == sent[0]["id"])
    copies = [r for r in again if r.headers()[4] == first.headers()[4]]
    assert len(copies) == 2


def _statement(record: Any) -> str:
    _, body = unframe(record.value())
    return str(decode_value(XAPI_EVENT_TYPE, body, None)["xapi_statement"]["statement"])


def test_configuration_and_outcomes(kafka_bus: KafkaBus, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("EVENT_ROUTER_SCHEMA_REGISTRY_URL", "EVENT_ROUTER_KAFKA_BOOTSTRAP_SERVERS"):
        monkeypatch.delenv(key, raising=False)
    sink = build_sink(kafka_consumer(kafka_bus, "caliper", "topic=learning"), secret_key="k")
    assert isinstance(sink, KafkaSink) and sink.topic == kafka_bus.topic("learning")
    with pytest.raises(SinkError, match="kafka://"):
        build_sink(Consumer(name="k", sink="kafka", url="redis://x/"), secret_key="k")
    with pytest.raises(SinkError, match="schema registry"):
        build_sink(Consumer(name="k", sink="kafka", url="kafka://h:1"), secret_key="k")
    with pytest.raises(SinkError, match="no Kafka brokers"):
        build_sink(
            Consumer(name="k", sink="kafka", url="kafka://?registry=http://r"), secret_key="k"
        )
    with pytest.raises(SinkError, match="unknown url parameter 'maxlen'"):
        build_sink(kafka_consumer(kafka_bus, query="maxlen=3"), secret_key="k")
    sasl = kafka_consumer(kafka_bus, query="security_protocol=SASL_SSL")
    with pytest.raises(SinkError, match="needs EVENT_ROUTER_KAFKA_SASL_USERNAME"):
        build_sink(sasl, secret_key="k")
    # The router's settings are the defaults: `kafka://` alone takes its brokers and registry.
    monkeypatch.setenv("EVENT_ROUTER_KAFKA_BOOTSTRAP_SERVERS", kafka_bus.bootstrap)
    monkeypatch.setenv("EVENT_ROUTER_SCHEMA_REGISTRY_URL", kafka_bus.registry.url)
    plain = Consumer(name="k", sink="kafka", url=f"kafka://?prefix={kafka_bus.prefix}")
    assert send(plain, encode(statement()))[0].verdict is Verdict.DELIVERED
    assert len(kafka_bus.read(kafka_bus.topic("xapi"), 1)) == 1

    [bad] = send(kafka_consumer(kafka_bus), [b'{"no": "id"}'])
    assert bad.verdict is Verdict.REJECTED and "no id" in bad.detail
    kafka_bus.registry.down()
    [unregistered] = send(kafka_consumer(kafka_bus, "edx"), encode({"name": "x"}))
    assert unregistered.verdict is Verdict.RETRY and "unreachable" in unregistered.detail
    kafka_bus.registry.up()
    down = Consumer(
        name="d", sink="kafka", timeout=2,
        url=f"kafka://127.0.0.1:1?registry={kafka_bus.registry.url}",
    )  # fmt: skip
    [unreachable] = send(down, encode(statement()))
    assert unreachable.verdict is Verdict.RETRY


def consume(bus: KafkaBus, topic: str, count: int, kind: str) -> list[dict[str, Any]]:
    """Read `count` messages with edx-event-bus-kafka's KafkaEventConsumer (subprocess)."""
    args = [bus.bootstrap, bus.registry.url, bus.prefix, topic, f"interop-{kind}", str(count), kind]
    out = subprocess.run(
        [sys.executable, "-m", "tests.peers.openedx_kafka", "consume", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_real_consumer_reads_xapi_caliper_and_tracking(kafka_bus: KafkaBus) -> None:
    statements = [statement(), statement(context={"language": "fr"})]
    events = [caliper_event(), caliper_event()]
    tracking = [
        {"name": "problem_check", "timestamp": "2024-03-05T10:05:13+00:00", "data": "a=b",
         "context": {"user_id": 3, "username": "Élodie"}},
        {"name": "play_video", "timestamp": "2024-03-05T10:05:13.123456+00:00",
         "data": {"currentTime": 2, "duration": 600}, "context": {"course_id": "course-v1:a+b+c"}},
    ]  # fmt: skip
    for kind in ("xapi", "caliper", "tracking"):
        kafka_bus.create_topic(kafka_bus.topic(kind), partitions=1)  # order across learners
    send(kafka_consumer(kafka_bus, "xapi"), encode(*statements))
    send(kafka_consumer(kafka_bus, "caliper"), encode(*events))
    send(kafka_consumer(kafka_bus, "edx"), encode(*tracking))

    xapi = consume(kafka_bus, "xapi", 2, "xapi")
    assert [json.loads(m["data"]["xapi_statement"]["statement"]) for m in xapi] == statements
    assert [m["data"]["xapi_statement"]["id"] for m in xapi] == [s["id"] for s in statements]
    caliper = consume(kafka_bus, "caliper", 2, "caliper")
    assert [json.loads(m["data"]["caliper_event"]["event"]) for m in caliper] == events
    logs = consume(kafka_bus, "tracking", 2, "tracking")
    for message, sent in zip(logs, tracking, strict=True):
        record = message["data"]["tracking_log"]
        assert record["name"] == sent["name"]
        assert record["timestamp"] == sent["timestamp"]
        assert json.loads(record["data"]) == sent["data"]
        assert json.loads(record["context"]) == sent["context"]
    firsts = ((xapi[0], XAPI_EVENT_TYPE), (caliper[0], CALIPER_EVENT_TYPE))
    for message, kind in firsts:
        meta = message["metadata"]
        assert meta["event_type"] == kind and message["from_event_bus"] is True
        assert meta["source"] == "openedx/event-router/web"
        assert meta["sourcelib"] == [int(p) for p in SOURCE_LIB.split(".")]
        assert meta["minorversion"] == 0 and meta["time"].endswith("+00:00")


def test_router_publishes_translated_statements(tmp_path: Path, kafka_bus: KafkaBus) -> None:
    """HTTP ingest → journal → translate → the consumer's topic, ids as `transform` gives them,
    read by a plain consumer and by KafkaEventConsumer."""
    topic = kafka_bus.topic("xapi")
    kafka_bus.create_topic(topic, partitions=3)
    router = Router(tmp_path / "home", environment=kafka_bus.env())
    router.add_consumer(
        name="xapi-kafka", protocol="xapi", sink="kafka", batch_size=20, linger=0.01,
        url=f"kafka://?prefix={kafka_bus.prefix}",
    )  # fmt: skip
    events = [play(i) for i in range(50)]
    with router:
        assert router.post(events).status_code == 202
        expected = expected_ids(router, events)
        records = kafka_bus.read(topic, len(expected), timeout=60)
    ids = [json.loads(_statement(r))["id"] for r in records]
    assert sorted(ids) == sorted(expected)
    # The same statements, through edx-event-bus-kafka's consumer and the declared signal.
    received = consume(kafka_bus, "xapi", len(expected), "xapi")
    assert sorted(m["data"]["xapi_statement"]["id"] for m in received) == sorted(expected)


def test_a_kafka_outside_the_allow_list_is_paused_before_anything_is_sent(
    kafka_bus: KafkaBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With EVENT_ROUTER_ALLOWED_DESTINATIONS set, the brokers and the registry are checked
    before each send (as every other sink's destination is): nothing is registered or written."""
    topic = kafka_bus.topic("xapi")
    kafka_bus.create_topic(topic, partitions=1)
    subject = value_subject(topic, XAPI_EVENT_TYPE)
    monkeypatch.setenv("EVENT_ROUTER_ALLOWED_DESTINATIONS", "10.0.0.0/8")
    [refused] = send(kafka_consumer(kafka_bus), encode(learner("outside")))
    assert refused.verdict is Verdict.PAUSE, refused
    assert subject not in kafka_bus.registry.subjects
    monkeypatch.setenv("EVENT_ROUTER_ALLOWED_DESTINATIONS", "127.0.0.0/8")
    [sent] = send(kafka_consumer(kafka_bus), encode(learner("inside")))
    assert sent.verdict is Verdict.DELIVERED, sent
    assert subject in kafka_bus.registry.subjects
    assert len(kafka_bus.read(topic, 1)) == 1
