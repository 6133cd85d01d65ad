"""A consumer's delivery log: its recent sends, what the endpoint answered, when it tries again.

Kept in the memory of the process that delivers (a restart starts it afresh; in scale-out each
process keeps its own), bounded to the last `KEPT` sends per consumer, each answer cut to
`EXCERPT` characters with the consumer's secrets masked when it is recorded: operators see why a
consumer is failing without the log ever holding, or showing, a credential.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from event_router.sinks.outcome import Outcome, Verdict

KEPT = 100  # sends remembered per consumer
EXCERPT = 300  # characters of an answer kept
Mask = Callable[[int | None, str], str]  # (HTTP status, answer) -> what may be shown


def _cut(status: int | None, text: str) -> str:
    del status
    return text[:EXCERPT]


@dataclass(slots=True)
class Attempt:
    """One send of a batch (or part of one) and its outcome."""

    at: float
    items: int
    verdict: Verdict
    status: int | None
    latency: float
    answer: str
    try_number: int  # 1 for a batch's first send, 2 for its first retry, ...
    next_retry_at: float | None = None  # when the next try is due (a failed send)

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "items": self.items,
            "verdict": self.verdict.value,
            "status": self.status,
            "latency_ms": round(self.latency * 1000, 1),
            "answer": self.answer,
            "try": self.try_number,
            "next_retry_at": self.next_retry_at,
        }


class AttemptLog:
    """The last `KEPT` sends of one consumer, newest last; and since when it has been failing."""

    def __init__(self, kept: int = KEPT) -> None:
        self._attempts: deque[Attempt] = deque(maxlen=kept)
        self.mask: Mask = _cut  # the delivery sets one that knows the consumer's secrets
        self.failing_since: float | None = None  # the first failure of the current run of them
        self.next_retry_at: float | None = None

    def record(self, items: int, outcome: Outcome, try_number: int) -> Attempt:
        now = time.time()
        failed = outcome.verdict in (Verdict.RETRY, Verdict.PAUSE)
        if failed:
            self.failing_since = self.failing_since or now
        else:
            self.failing_since = self.next_retry_at = None
        answer = self.mask(outcome.status, outcome.detail)[:EXCERPT]
        attempt = Attempt(
            now, items, outcome.verdict, outcome.status, outcome.latency, answer, try_number
        )
        self._attempts.append(attempt)
        return attempt

    def waiting(self, seconds: float) -> None:
        """The next try is due in `seconds` (a backoff, or a paused consumer's minute)."""
        self.next_retry_at = time.time() + seconds
        if self._attempts:
            self._attempts[-1].next_retry_at = self.next_retry_at

    def retrying(self) -> None:
        """The wait is over (its time came, or an operator asked to retry now)."""
        self.next_retry_at = None

    def recent(self, limit: int = KEPT) -> list[dict[str, Any]]:
        """The newest `limit` sends, newest first."""
        return [a.to_json() for a in list(reversed(self._attempts))[:limit]]
