"""The real Open edX event-bus libraries, driven from a subprocess (Django is configured once).

    python -m tests.peers.openedx produce URL PREFIX TOPIC [MAXLEN] < events.ndjson > emitted.ndjson
    python -m tests.peers.openedx consume  URL PREFIX TOPIC GROUP COUNT KIND  > received.ndjson
    python -m tests.peers.openedx schema   KIND

`produce` emits each `{"name", "data", "context"}` through the LMS's path: event-tracking's
`DjangoTracker` with `EventBusRoutingBackend` (as Aspects configures it) → openedx-events'
`TRACKING_EVENT_EMITTED` signal → `EVENT_BUS_PRODUCER_CONFIG` handler → edx-event-bus-redis's
producer. It prints each event as the tracker handed it to its backends (a recording backend
beside the bus one, JSON-encoded with event-tracking's own encoder), then a last line with the
library versions. MAXLEN sets `EVENT_BUS_REDIS_STREAM_MAX_LEN` (the library trims the stream to
about 10,000 entries by default, as an LMS operator would size it for a bigger burst).

`consume` runs edx-event-bus-redis's `RedisEventConsumer` on a stream the router wrote (KIND:
`xapi`, `caliper` or `tracking`) and prints, for each signal it emits, the event data and the
metadata, until COUNT have arrived. For `xapi` and `caliper` the signal is declared here, the way
a downstream service would declare it, with attrs classes matching the router's shipped schemas;
`schema KIND` prints the Avro schema openedx-events generates from that declaration.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import django
from django.conf import settings

TRACKING = "org.openedx.analytics.tracking.event.emitted.v1"
XAPI = "org.openedx.analytics.xapi.statement.emitted.v1"
CALIPER = "org.openedx.analytics.caliper.event.emitted.v1"
RECORDED: list[str] = []


class RecordingBackend:
    """An event-tracking backend that keeps what the tracker sent (the test's reference)."""

    def send(self, event: dict[str, Any]) -> None:
        from eventtracking.backends.logger import DateTimeJSONEncoder

        RECORDED.append(json.dumps(event, cls=DateTimeJSONEncoder))


def configure(url: str, prefix: str, **extra: Any) -> None:
    settings.configure(
        INSTALLED_APPS=["openedx_events", "eventtracking.django.apps.EventTrackingConfig"],
        EVENTS_SERVICE_NAME="lms",
        EVENT_BUS_PRODUCER="edx_event_bus_redis.create_producer",
        EVENT_BUS_CONSUMER="edx_event_bus_redis.RedisEventConsumer",
        EVENT_BUS_REDIS_CONNECTION_URL=url,
        EVENT_BUS_TOPIC_PREFIX=prefix,
        EVENT_BUS_REDIS_CONSUMER_POLL_TIMEOUT=1,
        USE_TZ=True,
        **extra,
    )
    django.setup()


def tracking_settings(events: list[dict[str, Any]], topic: str) -> dict[str, Any]:
    """The LMS's settings that send tracking events to the bus (as Aspects configures them)."""
    return {
        "EVENT_TRACKING_ENABLED": True,
        "SEND_TRACKING_EVENT_EMITTED_SIGNAL": True,
        "EVENT_BUS_TRACKING_LOGS": sorted({e["name"] for e in events}),
        "EVENT_BUS_PRODUCER_CONFIG": {
            TRACKING: {topic: {"event_key_field": "tracking_log.name", "enabled": True}}
        },
        "EVENT_TRACKING_BACKENDS": {
            "event_transformer": {
                "ENGINE": "eventtracking.backends.event_bus.EventBusRoutingBackend",
                "OPTIONS": {"backend_name": "event_transformer"},
            },
            "recorder": {"ENGINE": "tests.peers.openedx.RecordingBackend"},
        },
    }


def emit(events: list[dict[str, Any]]) -> list[str]:
    """Emit each event with the tracker; the events as it handed them to its backends."""
    from eventtracking import tracker

    for event in events:
        with tracker.get_tracker().context("request", event["context"]):
            tracker.emit(event["name"], event["data"])
    # The tracker imported this file again by its module name (it may run as __main__).
    from tests.peers import openedx as peer

    return list(peer.RECORDED)


def produce(url: str, prefix: str, topic: str, maxlen: str | None = None) -> None:
    events = [json.loads(line) for line in sys.stdin if line.strip()]
    sizing = {"EVENT_BUS_REDIS_STREAM_MAX_LEN": int(maxlen)} if maxlen else {}
    configure(url, prefix, **tracking_settings(events, topic), **sizing)
    for line in emit(events):
        print(line)
    import edx_event_bus_redis
    import openedx_events

    print(
        json.dumps(
            {
                "versions": {
                    "openedx_events": openedx_events.__version__,
                    "edx_event_bus_redis": edx_event_bus_redis.__version__,
                }
            }
        )
    )


def declare(kind: str) -> Any:
    """The signal a downstream service declares for the router's event type."""
    from openedx_events.tooling import OpenEdxPublicSignal

    if kind == "tracking":
        from openedx_events.analytics.signals import TRACKING_EVENT_EMITTED

        return TRACKING_EVENT_EMITTED
    import attr

    if kind == "xapi":

        @attr.s(frozen=True)
        class XapiStatementData:
            id = attr.ib(type=str)
            statement = attr.ib(type=str)

        return OpenEdxPublicSignal(event_type=XAPI, data={"xapi_statement": XapiStatementData})

    @attr.s(frozen=True)
    class CaliperEventData:
        id = attr.ib(type=str)
        event = attr.ib(type=str)

    return OpenEdxPublicSignal(event_type=CALIPER, data={"caliper_event": CaliperEventData})


def printer(signal: Any, count: int, done: Any) -> Any:
    """A receiver printing each signal's data and metadata as JSON; `done()` after `count`."""
    import attr

    received = 0

    def receiver(**kwargs: Any) -> None:
        nonlocal received
        metadata = kwargs["metadata"]
        data = {k: attr.asdict(v) for k, v in kwargs.items() if k in signal.init_data}
        for value in data.values():
            for key, item in value.items():
                if hasattr(item, "isoformat"):
                    value[key] = item.isoformat()
        print(
            json.dumps(
                {
                    "data": data,
                    "metadata": {
                        "event_type": metadata.event_type,
                        "id": str(metadata.id),
                        "source": metadata.source,
                        "time": metadata.time.isoformat(),
                        "minorversion": metadata.minorversion,
                        "sourcehost": metadata.sourcehost,
                        "sourcelib": list(metadata.sourcelib),
                    },
                    "from_event_bus": kwargs.get("from_event_bus"),
                }
            ),
            flush=True,
        )
        received += 1
        if received >= count:
            done()

    return receiver


def consume(url: str, prefix: str, topic: str, group: str, count: int, kind: str) -> None:
    configure(url, prefix)
    from edx_event_bus_redis import RedisEventConsumer

    signal = declare(kind)
    consumer = RedisEventConsumer(topic, group, "interop", check_backlog=True)
    signal.connect(printer(signal, count, consumer._shut_down), weak=False)
    consumer.consume_indefinitely()


def schema(kind: str) -> None:
    configure("redis://127.0.0.1:6379/0", "")
    from openedx_events.event_bus.avro.serializer import AvroSignalSerializer

    print(json.dumps(AvroSignalSerializer(declare(kind)).schema))


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "produce":
        produce(*args)
    elif command == "consume":
        url, prefix, topic, group, count, kind = args
        consume(url, prefix, topic, group, int(count), kind)
    elif command == "schema":
        schema(*args)
    else:
        raise SystemExit(f"unknown command {command!r}")
