"""The Sink contract and the factory that picks a sink for a consumer.

A sink is "encode, build the request, send, classify the answer" (Vector's shape): it never retries
and never raises for a failed delivery; it returns an Outcome and the delivery engine decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from event_router.routing.consumer import Consumer, SinkKind
from event_router.sinks.outcome import Outcome


class SinkError(ValueError):
    """A consumer whose configuration cannot make a working sink (raised by `build_sink`)."""


@runtime_checkable
class Sink(Protocol):
    """Delivers batches to one consumer. `send` may run concurrently (max_in_flight > 1)."""

    async def send(self, items: Sequence[bytes]) -> Outcome:
        """Deliver `items`, each one already-serialised JSON value, as one request/write."""
        ...

    async def close(self) -> None:
        """Release connections and files; the sink is not used afterwards."""
        ...


def build_sink(consumer: Consumer, *, secret_key: str) -> Sink:
    """The sink for `consumer.sink`.

    `secret_key` is the router's key; no sink derives anything from it yet (webhooks sign with the
    consumer's own `signing_secret` so a receiver never holds the router's key; bus message ids
    come from statement ids), but one may, so the signature stays stable.
    """
    del secret_key
    kind = consumer.sink
    if kind is SinkKind.LRS:
        from event_router.sinks.lrs import LrsSink

        return LrsSink(consumer)
    if kind is SinkKind.CALIPER:
        from event_router.sinks.caliper import CaliperSink

        return CaliperSink(consumer)
    if kind is SinkKind.WEBHOOK:
        from event_router.sinks.webhook import WebhookSink

        return WebhookSink(consumer)
    if kind is SinkKind.ARCHIVE:
        from event_router.sinks.archive import build_archive

        return build_archive(consumer)
    if kind is SinkKind.BUS:
        from event_router.sinks.bus import BusSink

        return BusSink(consumer)
    if kind is SinkKind.KAFKA:
        from event_router.sinks.kafka import KafkaSink

        return KafkaSink(consumer)
    raise SinkError(f"consumer {consumer.name!r}: unknown sink {kind!r}")
