"""What the two event-bus sources (Redis Streams, Kafka) share about the messages they read.

Both keep each message's id in the journal as an idempotency key, committed with the events, so
a redelivery after a crash is dropped; and both skip event types they do not ingest, counted and
logged once per type; and both count the messages they cannot read, logging a sample.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter

from event_router.journal import Journal

PRUNE_EVERY = 300.0  # seconds
LOG_FIRST = 100  # unreadable messages logged one by one before sampling starts
LOG_EVERY = 1000  # after LOG_FIRST, one rejection in this many is logged


class SeenKeys:
    """Keeps one source's idempotency keys to the newest `keep`: pruned every five minutes, or
    sooner once a quarter of `keep` new events arrived (heavy traffic)."""

    def __init__(self, journal: Journal, source_id: str, keep: int) -> None:
        self.journal = journal
        self.source_id = source_id
        self.keep = keep
        self._last = time.monotonic()
        self._at = 0

    async def prune(self, accepted: int) -> None:
        """Prune if due; `accepted` counts the events the source has ingested so far."""
        if time.monotonic() - self._last < PRUNE_EVERY and accepted - self._at < self.keep // 4:
            return
        self._last = time.monotonic()
        self._at = accepted
        await asyncio.to_thread(self.journal.forget_seen, self.source_id, self.keep)


def skip_type(
    counts: Counter[str], log: logging.Logger, where: str, event_type: str, message: str
) -> None:
    """Count a message of a type the source does not ingest; log the first of each type."""
    counts["other_types"] += 1
    counts[f"type:{event_type}"] += 1
    if counts[f"type:{event_type}"] == 1:
        log.info("%s: skipping event type %s (message %s)", where, event_type, message)


def count_rejected(counts: Counter[str]) -> bool:
    """Count a message the source cannot read; True when this one is to be logged (the first
    LOG_FIRST, then one in LOG_EVERY: a flood of bad messages must not flood the log)."""
    counts["malformed"] += 1
    count = counts["malformed"]
    return count <= LOG_FIRST or count % LOG_EVERY == 0
