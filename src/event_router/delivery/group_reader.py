"""Reading the Redis journal (scale-out mode): this process as a member of a consumer's group.

Each consumer is a consumer group on the journal stream and each router process a member of it,
so the processes share the consumer's work: XREADGROUP hands every entry to exactly one member,
and a batch's entries are XACKed only once every item of it is settled, so an entry leaves the
group's pending list only once delivered.

Crash recovery: a member first re-reads its own pending entries (`XREADGROUP ... 0`, for a member
name that survives a restart, and after a Redis outage); entries left pending by a member that
died are taken over with XAUTOCLAIM once idle longer than `claim_idle`. Everything read and not
yet acknowledged is touched every `claim_idle / 3` (XCLAIM to ourselves, JUSTID) so live members
never steal work that is merely slow (an endpoint down for hours).

Order: several members send concurrently, and claimed entries arrive late, so order across the
stream is not kept in this mode (ids are deterministic: the endpoint still stores each once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from event_router.delivery.reader import Read
from event_router.journal import JournalUnavailable
from event_router.journal.redis import RedisJournal, entry_seq, text, to_entry

log = logging.getLogger(__name__)
Entries = list[tuple[Any, Any]]


@contextlib.contextmanager
def unavailable() -> Iterator[None]:
    """Redis errors as the `JournalUnavailable` that delivery waits out."""
    try:
        yield
    except (RedisError, OSError) as exc:
        if isinstance(exc, JournalUnavailable):
            raise
        raise JournalUnavailable(str(exc)) from exc


class GroupReader:
    """This process's share of one consumer's group."""

    def __init__(
        self,
        journal: RedisJournal,
        group: str,
        member: str,
        counts: Counter[str] | None = None,
        *,
        claim_idle: float = 30.0,
    ) -> None:
        self.journal = journal
        self.stream = journal.stream
        self.group = group
        self.member = member
        self.claim_idle = claim_idle
        self.position = 0
        # resumed (own pending re-read), claimed (from dead members), lost (trimmed before sent)
        self.counts: Counter[str] = counts if counts is not None else Counter()
        self._held: dict[str, int] = {}  # read, not acked: id -> seq (kept fresh against claims)
        self._bodies: dict[int, bytes] = {}  # their bodies, for dead letters
        self._problems: list[str] = []
        self._pending_after: str | None = "0"
        self._claim_start = "0-0"
        self._next_claim = 0.0
        self._client: aioredis.Redis | None = None
        self._heartbeat: asyncio.Task[None] | None = None

    def _redis(self) -> aioredis.Redis:
        if self._client is None:
            self._client = self.journal.async_client()
            self._heartbeat = asyncio.create_task(self._beat(), name=f"heartbeat:{self.group}")
        return self._client

    async def read(self, limit: int, wait: float) -> Read | None:
        try:
            with unavailable():
                entries = await self._fetch(self._redis(), limit, max(1, int(wait * 1000)))
        except JournalUnavailable:
            self._pending_after = "0"  # what we held is pending on us: read it again after
            raise
        problems, self._problems = self._problems, []
        if not entries and not problems:
            return None
        ids, readable = [], []
        for raw_id, fields in entries:
            entry_id = text(raw_id)
            ids.append(entry_id)
            self._held[entry_id] = entry_seq(entry_id)
            if fields:
                entry = to_entry(entry_id, fields)
                self._bodies[entry.seq] = entry.body
                readable.append(entry)
            else:  # trimmed while pending on a member that died: nothing left to send
                self.counts["lost"] += 1
                problems.append(f"journal entry {entry_id} was trimmed before delivery")
        return Read(readable, ids, problems=problems)

    async def ack(self, marks: list[Any]) -> None:
        ids = [entry_id for mark in marks for entry_id in mark]
        if not ids:
            return
        with unavailable():
            await self._redis().xack(self.stream, self.group, *ids)
        for entry_id in ids:
            self._bodies.pop(self._held.pop(entry_id, 0), None)
        self.position = max(self.position, entry_seq(ids[-1]))

    def body(self, seq: int) -> bytes | None:
        return self._bodies.get(seq)

    async def close(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(BaseException):
                await self._heartbeat
        if self._client is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._client.aclose()
        self._client = self._heartbeat = None
        self._held.clear()
        self._bodies.clear()

    async def _fetch(self, client: aioredis.Redis, count: int, block_ms: int) -> Entries:
        """Our own pending entries first, then idle ones of dead members, then new ones."""
        if self._pending_after is not None:
            reply = await client.xreadgroup(
                self.group, self.member, {self.stream: self._pending_after}, count=count
            )
            entries = _entries(reply)
            if entries:
                self._pending_after = text(entries[-1][0])
                fresh = [e for e in entries if text(e[0]) not in self._held]
                self.counts["resumed"] += len(fresh)
                return fresh
            self._pending_after = None
        if time.monotonic() >= self._next_claim:
            claimed = await self._claim(client, count)
            if claimed:
                return claimed
        reply = await client.xreadgroup(
            self.group, self.member, {self.stream: ">"}, count=count, block=block_ms
        )
        return _entries(reply)

    async def _claim(self, client: aioredis.Redis, count: int) -> Entries:
        """One XAUTOCLAIM step; a full pass over the pending list every `claim_idle / 2`."""
        reply: Any = await client.xautoclaim(
            self.stream,
            self.group,
            self.member,
            min_idle_time=int(self.claim_idle * 1000),
            start_id=self._claim_start,
            count=count,
        )
        self._claim_start = text(reply[0])
        if self._claim_start == "0-0":
            self._next_claim = time.monotonic() + self.claim_idle / 2
        deleted = [text(i) for i in reply[2]] if len(reply) > 2 else []
        if deleted:  # trimmed while pending: XAUTOCLAIM already dropped them from the list
            self.counts["lost"] += len(deleted)
            self._problems.append(
                f"{len(deleted)} pending journal entries were trimmed before delivery"
            )
        entries = [e for e in reply[1] if text(e[0]) not in self._held]
        if entries:
            self.counts["claimed"] += len(entries)
            log.info("%s: claimed %d idle entries from other members", self.group, len(entries))
        return entries

    async def _beat(self) -> None:
        """Reset the idle time of everything we hold, so no live member's work is claimed."""
        while True:
            await asyncio.sleep(self.claim_idle / 3)
            held: list[Any] = list(self._held)
            try:
                for start in range(0, len(held), 1000):
                    await self._redis().xclaim(
                        self.stream,
                        self.group,
                        self.member,
                        0,
                        held[start : start + 1000],
                        justid=True,
                    )
            except (RedisError, OSError) as exc:  # the next read says so too, and waits
                log.warning("%s: cannot keep held entries fresh: %s", self.group, exc)


def _entries(reply: Any) -> Entries:
    """The entries of a one-stream XREADGROUP reply (`[[stream, [(id, fields), ...]]]`)."""
    if not reply:
        return []
    if isinstance(reply, dict):  # RESP3 clients answer with a map
        return list(next(iter(reply.values()))[0])
    return list(reply[0][1])
