"""Small valid payloads and a helper to drive a sink from synchronous tests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

import orjson

from event_router.routing.consumer import Consumer
from event_router.sinks.base import Sink, build_sink
from event_router.sinks.outcome import Outcome

LMS = "http://lms.example.com"


def statement(statement_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """A valid xAPI statement with a fresh (or given) id."""
    return {
        "id": statement_id or str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "account": {"homePage": LMS, "name": "learner-1"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/launched", "display": {"en": "launched"}},
        "object": {"id": f"{LMS}/courses/course-v1:edX+DemoX+Demo", "objectType": "Activity"},
        "timestamp": "2024-05-01T10:00:00.000Z",
        **extra,
    }


def caliper_event(**extra: Any) -> dict[str, Any]:
    """A minimal Caliper 1.2 NavigationEvent with a fresh urn:uuid id."""
    return {
        "@context": "http://purl.imsglobal.org/ctx/caliper/v1p2",
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": "NavigationEvent",
        "actor": {"id": f"{LMS}/u/1", "type": "Person"},
        "action": "NavigatedTo",
        "object": {"id": f"{LMS}/courses/x", "type": "WebPage"},
        "eventTime": "2024-05-01T10:00:00.000Z",
        **extra,
    }


def encode(*items: dict[str, Any]) -> list[bytes]:
    return [orjson.dumps(item) for item in items]


def send(consumer: Consumer | Sink, *batches: Sequence[bytes]) -> list[Outcome]:
    """Send each batch in turn through one sink (built from `consumer` if needed), then close."""

    async def run() -> list[Outcome]:
        sink = build_sink(consumer, secret_key="k") if isinstance(consumer, Consumer) else consumer
        try:
            return [await sink.send(batch) for batch in batches]
        finally:
            await sink.close()

    return asyncio.run(run())
