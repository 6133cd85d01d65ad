"""One subscriber of a stream: a bounded buffer between the journal and its connection.

The hub hands every subscriber the same messages without waiting for anyone; what a connection
has not taken yet waits here, up to the consumer's `buffer`. A subscriber that lets more pile up
is cut off (`close`): what waited is dropped (the journal still has it: the client resumes with
`Last-Event-ID`), and the last message it gets says why.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from event_router.delivery.stats import Stats
from event_router.stream.sse import KEEPALIVE, Position, notice

KEEPALIVE_EVERY = 15.0  # seconds of silence before a comment keeps proxies from closing
Write = Callable[[bytes], Awaitable[None]]
_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Message:
    """One SSE message ready to write (shared by every subscriber), and where it comes from."""

    seq: int
    data: bytes
    ingested_at: float


class Subscriber:
    """One connection to a stream: who, where it is, and what waits for it."""

    def __init__(
        self, start: Position, *, buffer: int, stats: Stats, user: str, token: str, client: str
    ) -> None:
        self.id = next(_ids)
        self.start = start
        self.buffer = buffer
        self.stats = stats
        self.user, self.token, self.client = user, token, client
        self.since = time.time()
        self.live = False  # fed by the hub (else still catching up from the journal)
        self.queued = start.seq  # the newest event whose messages are queued (or written)
        self.sent = start.seq  # the newest event whose messages are written
        self.closing: str | None = None  # why it was cut off (its last message says so)
        self.reason: str | None = None
        self._pending: deque[Message] = deque()
        self._wake = asyncio.Event()
        self.ended = asyncio.Event()  # set when it is cut off

    @property
    def buffered(self) -> int:
        return len(self._pending)

    def offer(self, messages: list[Message], upto: int) -> bool:
        """Queue what it has not had yet of the events up to `upto`; False (nothing queued)
        when more than `buffer` messages still wait from earlier offers: its connection does
        not keep up. (One offer may bring a burst of any size: only what is left of earlier
        ones counts.)"""
        if self.closing is not None:
            return True
        if len(self._pending) > self.buffer:
            return False
        fresh = [m for m in messages if m.seq > self.queued]
        if fresh:
            self._pending.extend(fresh)
            self._wake.set()
        self.queued = max(self.queued, upto)  # events up to `upto` had nothing else for it
        if not self._pending:
            self.sent = max(self.sent, self.queued)  # up to date: its route skipped the rest
        return True

    def close(self, reason: str, message: str) -> None:
        """Cut it off: drop what waits; its connection gets `closed` with the reason, then ends."""
        if self.closing is not None:
            return
        self._pending.clear()
        self.reason = reason
        self.closing = message
        self._wake.set()
        self.ended.set()

    async def write(self, write: Write, messages: list[Message]) -> None:
        """Write `messages` now (catching up, or from the buffer), and count them."""
        if not messages:
            return
        await write(b"".join(m.data for m in messages))
        self.sent = max(self.sent, messages[-1].seq)
        self.stats.delivered += len(messages)
        self.stats.last_delivery_at = now = time.time()
        self.stats.latencies.record(now, [m.ingested_at for m in messages])

    async def pump(self, write: Write) -> None:
        """Write what the hub queues until it is cut off (the reason last); keep-alive comments
        while there is nothing to say."""
        while True:
            if self.closing is not None:  # (`sent` is final now: a write under way is done)
                last = notice(
                    "closed", reason=self.reason, message=self.closing, last_sent=self.sent
                )
                await write(last)
                return
            if not self._pending:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), KEEPALIVE_EVERY)
                except TimeoutError:
                    await write(KEEPALIVE)
                continue
            batch = list(self._pending)
            self._pending.clear()
            await self.write(write, batch)
            if not self._pending and self.closing is None:  # (cut off: the rest was dropped)
                self.sent = max(self.sent, self.queued)

    def describe(self, head: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "user": self.user,
            "token": self.token,
            "client": self.client,
            "since": self.since,
            "catching_up": not self.live,
            "position": self.sent,
            "lag": max(0, head - self.sent),
            "buffered": len(self._pending),
        }
