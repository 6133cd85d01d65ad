"""Caliper sink: one Sensor API envelope per request (Caliper 1.2 §4.1, one envelope per POST).

The envelope is assembled from bytes: its head is serialised once per request and the already
serialised events are spliced into `data`, so events are never parsed again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from event_router.routing.consumer import Consumer
from event_router.sinks.http import HttpSink
from event_router.sinks.registry import SinkType, register
from event_router.translate.caliper.common import caliper_time

DATA_VERSION = "http://purl.imsglobal.org/ctx/caliper/v1p2"


def default_sensor(consumer: Consumer) -> str:
    """A stable sensor IRI when none is configured.

    The sensor names the sender, not the endpoint, so it is not taken from the consumer's url (that
    would tell the endpoint its own address); set `sensor_id` (ERB uses the LMS root URL).
    """
    return f"urn:openedx-event-router:{consumer.name}"


class CaliperSink(HttpSink):
    """POST `{"sensor", "sendTime", "dataVersion", **override_args, "data": [events]}`."""

    def __init__(
        self, consumer: Consumer, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        super().__init__(consumer)
        self._clock = clock
        self._head: dict[str, Any] = {
            "sensor": consumer.sensor_id or default_sensor(consumer),
            "sendTime": "",
            "dataVersion": DATA_VERSION,
        }
        # override_args may replace the envelope's own keys, never the events.
        self._head.update({k: v for k, v in consumer.override_args.items() if k != "data"})

    def build(self, items: Sequence[bytes]) -> tuple[bytes, dict[str, str]]:
        head = orjson.dumps({**self._head, "sendTime": caliper_time(self._clock())})
        return head[:-1] + b',"data":[' + b",".join(items) + b"]}", {}


register(
    SinkType(
        "caliper",
        CaliperSink,
        "one Caliper envelope per request",
        protocols=frozenset({"caliper"}),
        schemes=("http://", "https://"),
    )
)
