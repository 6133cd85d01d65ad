"""What a consumer's delivery has done and is doing: counters, state, last error, latency."""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from event_router.delivery.attempts import AttemptLog


class State(StrEnum):
    RUNNING = "running"  # caught up or sending
    RETRYING = "retrying"  # transient failures; backing off, will retry
    PAUSED = "paused"  # the endpoint refused our credentials or configuration; needs an operator
    DISABLED = "disabled"
    STOPPED = "stopped"


# Upper bounds (seconds) of the delivery-latency histogram exported to Prometheus.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class Latencies(deque[float]):
    """Recent ingest-to-delivery latencies (for percentiles), plus a histogram of every one since
    the process started (`buckets[i]` counts values <= LATENCY_BUCKETS[i]; the last, the rest),
    which Prometheus needs and a bounded window cannot give."""

    def __init__(self, maxlen: int = 4096) -> None:
        super().__init__(maxlen=maxlen)
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self.sum = 0.0
        self.observed = 0  # (not `count`: deque has a method of that name)

    def append(self, value: float) -> None:
        super().append(value)
        self.buckets[bisect_left(LATENCY_BUCKETS, value)] += 1
        self.sum += value
        self.observed += 1

    def record(self, now: float, arrivals: list[float]) -> None:
        """One latency per delivered item: `now` minus each item's arrival. Items of one batch
        mostly share their arrival (one journal commit), so each run of equal ones is bucketed
        once."""
        values = [now - moment for moment in arrivals]
        self.extend(values)
        self.sum += sum(values)
        self.observed += len(values)
        buckets, last, index = self.buckets, None, 0
        for value in values:
            if value != last:
                last, index = value, bisect_left(LATENCY_BUCKETS, value)
            buckets[index] += 1


@dataclass
class Stats:
    """Live figures for one consumer; `snapshot()` is what status, the API and the UI show."""

    state: State = State.RUNNING
    delivered: int = 0  # items (statements / Caliper events / edX events) accepted by the endpoint
    events: int = 0  # journal events fully handled (delivered, skipped or dead-lettered)
    skipped: int = 0  # not for this consumer (route)
    untranslatable: int = 0  # translation refused, with a reason
    dead_letters: int = 0
    duplicates: int = 0  # of `delivered`: answered 409, the endpoint already had that id
    retries: int = 0
    errors: int = 0  # failures recorded with `error` (each failed attempt, a pause, ...)
    in_flight: int = 0
    cursor: int = 0
    last_error: str | None = None
    last_error_at: float | None = None
    last_delivery_at: float | None = None
    skip_reasons: dict[str, int] = field(default_factory=dict)
    latencies: Latencies = field(default_factory=lambda: Latencies(maxlen=4096))
    attempts: AttemptLog = field(default_factory=AttemptLog)  # the delivery log (in memory)

    @classmethod
    def carried_over(cls, snapshot: dict[str, Any]) -> Stats:
        """Figures that go on from a previous run's last snapshot: the totals an operator reads
        in `status` count since the consumer was created, not since the router last started."""
        totals = (
            "delivered", "events", "skipped", "untranslatable", "dead_letters", "duplicates",
            "retries",
        )  # fmt: skip
        kept = {k: snapshot[k] for k in totals if isinstance(snapshot.get(k), int)}
        reasons = snapshot.get("skip_reasons")
        return cls(**kept, skip_reasons=dict(reasons) if isinstance(reasons, dict) else {})

    def error(self, message: str) -> None:
        self.last_error = message[:500]
        self.errors += 1
        self.last_error_at = time.time()

    def skip(self, reason: str, *, translation_failed: bool) -> None:
        if translation_failed:
            self.untranslatable += 1
        else:
            self.skipped += 1
        if reason in self.skip_reasons or len(self.skip_reasons) < 100:
            self.skip_reasons[reason] = self.skip_reasons.get(reason, 0) + 1

    def percentiles(self) -> dict[str, float | None]:
        values = sorted(self.latencies)
        if not values:
            return {"p50": None, "p90": None, "p99": None}

        def pick(q: float) -> float:
            return round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 2)

        return {"p50": pick(0.5), "p90": pick(0.9), "p99": pick(0.99)}

    def snapshot(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "delivered": self.delivered,
            "events": self.events,
            "skipped": self.skipped,
            "untranslatable": self.untranslatable,
            "dead_letters": self.dead_letters,
            "duplicates": self.duplicates,
            "retries": self.retries,
            "in_flight": self.in_flight,
            "cursor": self.cursor,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
            "last_delivery_at": self.last_delivery_at,
            "latency_ms": self.percentiles(),
            "failing_since": self.attempts.failing_since,
            "next_retry_at": self.attempts.next_retry_at,
            "skip_reasons": dict(sorted(self.skip_reasons.items(), key=lambda kv: -kv[1])[:20]),
        }
