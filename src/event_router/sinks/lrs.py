"""xAPI LRS sink: a batch of statements is one POST to the statements endpoint.

xAPI batches are all-or-nothing (Communication §3.2), which is why a rejection is split by the
delivery engine rather than here.
"""

from __future__ import annotations

from event_router.routing.consumer import Consumer
from event_router.sinks.http import HttpSink

XAPI_VERSION = "1.0.3"


class LrsSink(HttpSink):
    """POST `[statement, ...]` with `X-Experience-API-Version` (overridable through headers)."""

    def __init__(self, consumer: Consumer) -> None:
        super().__init__(consumer, {"X-Experience-API-Version": XAPI_VERSION})
