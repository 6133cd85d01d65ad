"""Caliper sink: one Sensor API envelope per request (Caliper 1.2 §4.1, one envelope per POST),
built by `translate.caliper.common.Envelope`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from event_router.routing.consumer import Consumer
from event_router.sinks.http import HttpSink
from event_router.sinks.registry import SinkType, register
from event_router.translate.caliper.common import Envelope


def default_sensor(consumer: Consumer) -> str:
    """A stable sensor IRI when none is configured.

    The sensor names the sender, not the endpoint, so it is not taken from the consumer's url (that
    would tell the endpoint its own address); set `sensor_id` (ERB uses the LMS root URL).
    """
    return f"urn:openedx-event-router:{consumer.name}"


class CaliperSink(HttpSink):
    """POST the consumer's events in one envelope (its `override_args` merged into the envelope)."""

    def __init__(
        self, consumer: Consumer, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        super().__init__(consumer)
        sensor = consumer.sensor_id or default_sensor(consumer)
        self._envelope = Envelope(sensor, consumer.override_args, clock)

    def build(self, items: Sequence[bytes]) -> tuple[bytes, dict[str, str]]:
        return self._envelope.wrap(items), {}


register(
    SinkType(
        "caliper",
        CaliperSink,
        "one Caliper envelope per request",
        protocols=frozenset({"caliper"}),
        schemes=("http://", "https://"),
    )
)
