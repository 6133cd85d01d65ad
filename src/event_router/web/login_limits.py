"""What keeps password guessing slow and sign-in cheap to refuse.

`LoginThrottle` counts each attempt *before* its password is checked, so thirty guesses sent at
once get no further than five sent one by one. It is keyed on (user name, client address): a
stranger failing from elsewhere never locks the real admin out. Each lock after the first lasts
twice as long as the one before, until a quiet spell resets the count.

`HashingGate` bounds how many passwords are hashed at once. Argon2 takes 64 MiB and ~0.1 s of CPU
per check on purpose; without a bound, sixty sign-ins at once take gigabytes and starve the API.
An attempt that cannot get a turn within a moment is told to retry (429), quickly.

Both live in the process's memory (a router restart forgets them, as it ends nobody's session).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

FREE_ATTEMPTS = 5  # failures before the first lock
FIRST_LOCK = 30.0  # seconds; doubled by each lock after it
LONGEST_LOCK = 3600.0
QUIET_RESET = 900.0  # this long after its lock ends without an attempt, a key starts afresh
MAX_KEYS = 10_000


@dataclass(slots=True)
class _Record:
    attempts: int = 0
    locked_until: float = 0.0
    last: float = 0.0


@dataclass(frozen=True, slots=True)
class Attempt:
    """One counted attempt; hand it back with `refund` if its password was never checked."""

    key: tuple[str, str]
    previous_lock: float


class LoginThrottle:
    """Attempts per (user name, client address), with a growing lock after `free` failures."""

    def __init__(
        self,
        free: int = FREE_ATTEMPTS,
        first_lock: float = FIRST_LOCK,
        longest_lock: float = LONGEST_LOCK,
        quiet_reset: float = QUIET_RESET,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.free = free
        self.first_lock = first_lock
        self.longest_lock = longest_lock
        self.quiet_reset = quiet_reset
        self.max_keys = max_keys
        self._records: dict[tuple[str, str], _Record] = {}
        self._lock = threading.Lock()

    def begin(self, username: str, client: str) -> Attempt | float:
        """Count an attempt and return it, or the seconds to wait when this key is locked."""
        key = (username.lower(), client)
        now = self.clock()
        with self._lock:
            record = self._records.get(key)
            if record is not None and self._expired(record, now):
                record = None
            if record is None:
                self._make_room(now)
                record = self._records[key] = _Record()
            if record.locked_until > now:
                return record.locked_until - now
            previous = record.locked_until
            record.attempts += 1
            record.last = now
            if record.attempts >= self.free:
                doublings = record.attempts - self.free
                lock = min(self.longest_lock, self.first_lock * 2.0 ** min(doublings, 32))
                record.locked_until = now + lock
            return Attempt(key, previous)

    def refund(self, attempt: Attempt) -> None:
        """Un-count an attempt whose password was not checked (the server was too busy)."""
        with self._lock:
            record = self._records.get(attempt.key)
            if record is not None and record.attempts > 0:
                record.attempts -= 1
                record.locked_until = attempt.previous_lock

    def succeeded(self, attempt: Attempt) -> None:
        with self._lock:
            self._records.pop(attempt.key, None)

    def locked(self) -> int:
        """How many keys are locked now."""
        now = self.clock()
        with self._lock:
            return sum(1 for record in self._records.values() if record.locked_until > now)

    def __len__(self) -> int:
        return len(self._records)

    def _expired(self, record: _Record, now: float) -> bool:
        return now > max(record.locked_until, record.last) + self.quiet_reset

    def _make_room(self, now: float) -> None:
        """Keep the table within `max_keys`: forget expired keys first, then the oldest unlocked
        ones; never a key that is locked now (so the table may exceed its bound while every key
        in it is locked; the hashing gate bounds how fast locks can be earned)."""
        if len(self._records) < self.max_keys:
            return
        for key in [k for k, r in self._records.items() if self._expired(r, now)]:
            del self._records[key]
        if len(self._records) < self.max_keys:
            return
        unlocked = sorted((r.last, k) for k, r in self._records.items() if r.locked_until <= now)
        for _, key in unlocked[: len(self._records) - self.max_keys + 1]:
            del self._records[key]


class HashingGate:
    """At most `limit` password checks at once; others wait up to `wait` seconds for a turn."""

    def __init__(self, limit: int = 2, wait: float = 1.0) -> None:
        self.limit = limit
        self.wait = wait
        self._turns = asyncio.Semaphore(limit)
        self.running = 0
        self.peak = 0  # the most checks that ran at once (for tests and curiosity)
        self.refused = 0

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[bool]:
        """Yields True with a turn held, or False when none came in time."""
        try:
            await asyncio.wait_for(self._turns.acquire(), self.wait)
        except TimeoutError:
            self.refused += 1
            yield False
            return
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            yield True
        finally:
            self.running -= 1
            self._turns.release()
