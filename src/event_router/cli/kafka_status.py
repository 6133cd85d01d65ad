"""`event-router status` on a Kafka journal: the cluster as Kafka and the control plane see it.

Lag per consumer is its group's committed offsets against the journal topic's high watermarks
(what Kafka says: a broker that misreports watermarks misreports lag); the processes' figures
are their last snapshots in the control plane (`journal_state`, kind `status`).
"""

from __future__ import annotations

import contextlib
from typing import Any

import orjson
import typer
from confluent_kafka import Consumer, KafkaException, TopicPartition

from event_router.cli.status import cluster_report
from event_router.delivery.partition_readers import group_name
from event_router.journal.kafka import parse_url
from event_router.journal.kafka_state import JournalState
from event_router.kafka.settings import KafkaSettings
from event_router.settings import Settings
from event_router.store import Store
from event_router.store.database import database_url


def collect_kafka(config: Settings) -> dict[str, Any]:
    servers, prefix = parse_url(config.journal_url or "")
    settings = KafkaSettings().model_copy(update={"kafka_bootstrap_servers": servers})
    topic = f"{prefix}.journal"
    store = Store.open(database_url(config))  # no secrets needed: no key asked for
    state = JournalState(database_url(config))
    client = Consumer(settings.client_config(**{"group.id": f"{prefix}."}))
    try:
        try:
            found = client.list_topics(topic, timeout=10).topics.get(topic)
            count = len(found.partitions) if found and found.error is None else 0
            marks = [
                client.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
                for p in range(count)
            ]
        except KafkaException as exc:
            raise typer.BadParameter(
                f"journal at {servers} is not reachable: {exc}", param_hint="EVENT_ROUTER_JOURNAL"
            ) from None
        members = {m: orjson.loads(v) for m, (v, _) in state.all("status").items()}

        def pending(name: str) -> int | None:
            return _lag(settings, group_name(prefix, name), topic, marks)

        report = cluster_report(store, members, pending)
        report["journal"] = {
            "kind": "kafka",
            "topic": topic,
            "partitions": count,
            "head": sum(high for _, high in marks),
            "events": sum(max(0, high - low) for low, high in marks),
            "bytes": 0,
        }
        return report
    finally:
        with contextlib.suppress(Exception):
            client.close()
        state.close()
        store.close()


def _lag(
    settings: KafkaSettings, group: str, topic: str, marks: list[tuple[int, int]]
) -> int | None:
    """Records of `topic` after the group's committed offsets (None when it has none)."""
    consumer = Consumer(settings.client_config(**{"group.id": group}))
    try:
        wanted = [TopicPartition(topic, p) for p in range(len(marks))]
        committed = consumer.committed(wanted, timeout=10)
    except KafkaException:
        return None
    finally:
        consumer.close()
    if all(tp.offset < 0 for tp in committed):
        return None
    return sum(
        max(0, high - (tp.offset if tp.offset >= 0 else low))
        for tp, (low, high) in zip(committed, marks, strict=True)
    )
