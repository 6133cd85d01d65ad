"""The one way a test waits: poll a condition until it holds, or fail saying what was awaited.

Tests never sleep a fixed time to let something happen; they wait for it. To show that something
does NOT happen, wait for a positive sign that it would have happened by then (a later event
delivered, a counter moved) and assert after that.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

TIMEOUT = 60.0  # generous: the machine running the suite may be busy
INTERVAL = 0.02


def wait_until(
    condition: Callable[[], T | None],
    timeout: float = TIMEOUT,
    message: str | Callable[[], object] = "",
    interval: float = INTERVAL,
) -> T:
    """Call `condition` until it returns a true value, and return that value (never None).

    Raises AssertionError after `timeout` seconds, with `message` (or what `message()` returns:
    a description of the state at that moment).
    """
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s: {_text(message)}")
        time.sleep(interval)
    return value


async def until(
    condition: Callable[[], T | None],
    timeout: float = TIMEOUT,
    message: str | Callable[[], object] = "",
    interval: float = INTERVAL,
) -> T:
    """`wait_until` inside an event loop: the loop keeps running while the test waits."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s: {_text(message)}")
        await asyncio.sleep(interval)
    return value


def _text(message: str | Callable[[], object]) -> str:
    return str(message()) if callable(message) else message or "the condition never held"


def clock_moves_on(resolution: float = 0.001) -> None:
    """Wait until the wall clock has left its current `resolution` tick, so a timestamp taken
    after differs from one taken before (Redis entry ids and creation times are milliseconds)."""
    start = int(time.time() / resolution)
    wait_until(lambda: int(time.time() / resolution) > start, 5, "the clock stands still", 0.0005)
