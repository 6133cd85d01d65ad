"""Sinks: how bytes reach a consumer (LRS, Caliper endpoint, signed webhook, archive).

Each sink turns a batch of serialised items into one request or write and classifies the answer;
retries, splitting and pausing belong to the delivery engine.
"""

from event_router.sinks.base import Sink, SinkError, build_sink
from event_router.sinks.outcome import Outcome, Verdict, classify

__all__ = ["Outcome", "Sink", "SinkError", "Verdict", "build_sink", "classify"]
