"""How long to wait before retrying a transient failure: exponential, jittered, capped."""

from __future__ import annotations

import random


def backoff(
    attempt: int, *, base: float = 0.1, cap: float = 30.0, retry_after: float | None = None
) -> float:
    """Seconds to wait before try number `attempt + 1` (attempt counts from 1).

    Full jitter (a uniform draw below the exponential bound) keeps many routers retrying against
    one recovering LRS from arriving in lockstep. A server's `Retry-After` is a floor: we never
    come back sooner than asked, however small the exponential term.
    """
    bound = min(cap, base * (2 ** min(attempt - 1, 30)))
    delay = random.uniform(bound / 2, bound)
    if retry_after is not None:
        delay = max(delay, min(retry_after, 3600.0))
    return delay
