"""Stream sink: nothing is sent; subscribers read the consumer live (`GET /api/v1/stream`).

An adaptive engine, a browser extension or a notebook cannot always take POSTs: it subscribes
instead, with an API token bound to the consumer (`event-router tokens create --consumer`). The
consumer's route, protocol and identity policy apply as for any consumer; what reaches its
subscribers, and how a slow one is cut off, is `event_router.stream`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from event_router.routing.consumer import Consumer
from event_router.sinks.base import SinkError
from event_router.sinks.check import result
from event_router.sinks.outcome import Outcome, Verdict
from event_router.sinks.registry import SinkType, register

STREAM = "stream"
URL = "stream:"  # a stream consumer's url: nothing to reach (given when none is)


class StreamOptions(BaseModel):
    """How much a subscriber may fall behind before it is cut off."""

    model_config = ConfigDict(extra="forbid")

    buffer: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="Messages waiting for one subscriber's connection before it is cut off "
        "(it resumes from the journal with Last-Event-ID).",
    )
    grace: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Seconds a subscriber that was cut off has to read the event saying why "
        "before its connection is closed anyway.",
    )


class StreamSink:
    """Never used to send: the engine runs a stream consumer as a `stream.hub.Hub`."""

    def __init__(self, consumer: Consumer) -> None:
        self.consumer = consumer

    async def send(self, items: Sequence[bytes]) -> Outcome:
        del items
        return Outcome(Verdict.PAUSE, detail="a stream consumer is read by its subscribers")

    async def close(self) -> None:
        pass


def build_stream(consumer: Consumer) -> StreamSink:
    if consumer.sink != STREAM:
        raise SinkError(f"consumer {consumer.name!r} is not a stream consumer")
    return StreamSink(consumer)


async def check_stream(consumer: Consumer) -> dict[str, Any]:
    """Nothing to reach: say how subscribers connect."""
    return result(
        "nothing sent: subscribers connect to GET /api/v1/stream",
        ok=True,
        verdict=(
            f"a stream consumer: subscribers read it with an API token bound to it "
            f"(event-router tokens create --consumer {consumer.name})"
        ),
    )


register(
    SinkType(
        STREAM,
        build_stream,
        "Server-Sent Events read by subscribers (GET /api/v1/stream)",
        schemes=(URL,),
        options=StreamOptions,
        check=check_stream,
    )
)
