"""How long to wait before trying again: a transient failure (exponential, jittered, capped),
or a consumer paused because its endpoint refused our credentials or configuration."""

from __future__ import annotations

import asyncio
import contextlib
import random

PAUSE_RETRY = 60.0  # seconds: how often a paused consumer tries its endpoint again


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


async def paused(resume: asyncio.Event, retry: float | None = None) -> None:
    """Wait while a consumer is paused: until an operator's change wakes it (`resume` is set),
    or `retry` seconds (PAUSE_RETRY) at the latest, since what paused it is often fixed on the
    endpoint's side (a password reset, a permission granted), which the router cannot see."""
    resume.clear()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(resume.wait(), PAUSE_RETRY if retry is None else retry)
