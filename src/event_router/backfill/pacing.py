"""`backfill --rate N`: a token bucket that holds a backfill to N events a second.

An LRS that also serves live traffic (or a licence that counts requests) may not take a history
at full speed. Tokens accrue at `rate` per second up to `burst` (a tenth of a second's worth), and
the runner hands events to the consumers in slices of at most `burst` lines, each waiting for its
tokens: the pace stays even, never a block of a thousand events and then a long pause.
"""

from __future__ import annotations

import asyncio
import time


class TokenBucket:
    """`take(n)` returns once `n` tokens (n ≤ burst) are available, and spends them."""

    def __init__(self, rate: float, burst: int | None = None) -> None:
        if rate <= 0:
            raise ValueError("the rate must be more than 0 events a second")
        self.rate = rate
        self.burst = burst if burst is not None else slice_size(rate)
        self._tokens = float(self.burst)
        self._at = time.monotonic()
        self.waited = 0.0  # seconds spent waiting for tokens, for the report

    async def take(self, count: int) -> None:
        count = min(count, self.burst)
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens < count:
            wait = (count - self._tokens) / self.rate
            self.waited += wait
            await asyncio.sleep(wait)
            self._at = time.monotonic()
            self._tokens = count + (self._at - now - wait) * self.rate  # oversleep is not lost
            self._tokens = min(self._tokens, float(self.burst))
        self._tokens -= count


def slice_size(rate: float) -> int:
    """Lines handed over at once: a tenth of a second's worth, at least one."""
    return max(1, int(rate / 10))
