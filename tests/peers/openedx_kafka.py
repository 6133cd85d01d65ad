"""The real Open edX event bus on Kafka (edx-event-bus-kafka), driven from a subprocess.

    python -m tests.peers.openedx_kafka produce BOOTSTRAP REGISTRY PREFIX TOPIC < events.ndjson
    python -m tests.peers.openedx_kafka consume BOOTSTRAP REGISTRY PREFIX TOPIC GROUP COUNT KIND

`produce` emits each `{"name", "data", "context"}` through the LMS's path, as tests/peers/openedx.py
does for Redis (event-tracking → `TRACKING_EVENT_EMITTED` → `EVENT_BUS_PRODUCER_CONFIG`), into
edx-event-bus-kafka's `KafkaEventProducer` (confluent-kafka's AvroSerializer, the registry), then
flushes it; it prints the events as the tracker sent them, then the library versions.

`consume` runs edx-event-bus-kafka's `KafkaEventConsumer` on a topic the router wrote (KIND:
`xapi`, `caliper` or `tracking`, the signal declared as tests/peers/openedx.py does) and prints
each signal it emits until COUNT have arrived. Two consumer settings differ from the library's
(it takes no consumer options from Django settings): a new group starts at the oldest record
(the library's default, `latest`, would race with the router's writes), and the group time-outs
are short (the Tansu broker's first join takes ~25 s with the defaults).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from tests.peers.openedx import TRACKING, declare, emit, printer, tracking_settings


def configure(bootstrap: str, registry: str, prefix: str, **extra: Any) -> None:
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=[
            "openedx_events",
            "eventtracking.django.apps.EventTrackingConfig",
            "edx_event_bus_kafka",
        ],
        EVENTS_SERVICE_NAME="lms",
        EVENT_BUS_PRODUCER="edx_event_bus_kafka.create_producer",
        EVENT_BUS_CONSUMER="edx_event_bus_kafka.KafkaEventConsumer",
        EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS=bootstrap,
        EVENT_BUS_KAFKA_SCHEMA_REGISTRY_URL=registry,
        EVENT_BUS_TOPIC_PREFIX=prefix,
        EVENT_BUS_KAFKA_CONSUMERS_ENABLED=True,
        EVENT_BUS_KAFKA_CONSUMER_POLL_TIMEOUT=0.5,
        USE_TZ=True,
        **extra,
    )
    django.setup()


def produce(bootstrap: str, registry: str, prefix: str, topic: str) -> None:
    events = [json.loads(line) for line in sys.stdin if line.strip()]
    configure(bootstrap, registry, prefix, **tracking_settings(events, topic))
    recorded = emit(events)
    import edx_event_bus_kafka
    import openedx_events
    from openedx_events.analytics.signals import TRACKING_EVENT_EMITTED
    from openedx_events.event_bus import get_producer

    assert TRACKING_EVENT_EMITTED.event_type == TRACKING
    get_producer().prepare_for_shutdown()  # flush: every event is on the broker
    for line in recorded:
        print(line)
    versions = {
        "openedx_events": openedx_events.__version__,
        "edx_event_bus_kafka": edx_event_bus_kafka.__version__,
    }
    print(json.dumps({"versions": versions}))


def consume(
    bootstrap: str, registry: str, prefix: str, topic: str, group: str, count: int, kind: str
) -> None:
    configure(bootstrap, registry, prefix)
    from edx_event_bus_kafka import KafkaEventConsumer

    class TestConsumer(KafkaEventConsumer):  # type: ignore[misc]
        def _create_consumer(self) -> Any:
            from confluent_kafka import Consumer
            from edx_event_bus_kafka.internal.config import load_common_settings

            config = load_common_settings() or {}
            config.update(
                {
                    "group.id": self.group_id,
                    "enable.auto.commit": False,  # as the library
                    "auto.offset.reset": "earliest",
                    "session.timeout.ms": 6000,
                    "heartbeat.interval.ms": 1000,
                }
            )
            return Consumer(config)

    signal = declare(kind)
    consumer = TestConsumer(topic, group)
    signal.connect(printer(signal, count, consumer._shut_down), weak=False)
    consumer.consume_indefinitely()


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "produce":
        produce(*args)
    elif command == "consume":
        bootstrap, registry, prefix, topic, group, count, kind = args
        consume(bootstrap, registry, prefix, topic, group, int(count), kind)
    else:
        raise SystemExit(f"unknown command {command!r}")
