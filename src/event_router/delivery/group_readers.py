"""The Redis journal's side of the engine (scale-out mode): N processes, one group per consumer.

Each process joins every enabled consumer's group as `member` (`delivery.group_reader`), writes
its figures to `<prefix>:status` and reads everyone's, so any process can show the whole
cluster. Work that must not run N times at once (re-sending dead letters marked for replay,
trimming the stream, forgetting members that are long gone) runs in whichever process holds a
short lease.

Trimming keeps every entry some enabled consumer's group has not acknowledged, and everything
younger than the retention window: XTRIM MINID at the oldest of each group's oldest pending entry
and its next undelivered one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from event_router.delivery.group_reader import GroupReader, unavailable
from event_router.delivery.stats import Stats
from event_router.journal.redis import RedisJournal, text

log = logging.getLogger(__name__)
_MAX_SEQ = (1 << 64) - 1
_GONE_AFTER = 3600.0  # a member idle this long with nothing pending is forgotten


class GroupReaders:
    """This process's membership in every enabled consumer's group."""

    def __init__(
        self,
        journal: RedisJournal,
        *,
        member: str,
        claim_idle: float = 30.0,
        poll_interval: float = 1.0,
        trim_interval: float = 60.0,
    ) -> None:
        self.journal = journal
        self.member = member
        self.claim_idle = claim_idle
        self.poll_interval = poll_interval
        self.trim_interval = trim_interval
        self.counts: dict[str, Counter[str]] = {}  # per consumer: resumed, claimed, lost
        self.groups: dict[str, dict[str, Any]] = {}  # XINFO GROUPS, by group name
        self.cluster: dict[str, dict[str, Any]] = {}  # member -> its last status snapshot
        self._last_trim = 0.0
        self._client: aioredis.Redis | None = None

    @property
    def label(self) -> str:
        return f"member {self.member} of journal {self.journal.stream}"

    def _redis(self) -> aioredis.Redis:
        if self._client is None:
            self._client = self.journal.async_client()
        return self._client

    async def reader(self, consumer: str, created: float) -> GroupReader:
        # A new consumer receives what was accepted after it was created (as on SQLite): its
        # group starts at that moment of the stream, whichever process creates it first.
        start = f"{max(0, int(created * 1000) - 1)}-{_MAX_SEQ}"
        with unavailable():
            try:
                await self._redis().xgroup_create(
                    self.journal.stream, consumer, id=start, mkstream=True
                )
                log.info("created consumer group %s at %s", consumer, start)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
        log.info("delivering to %s as member %s of its group", consumer, self.member)
        counts = self.counts.setdefault(consumer, Counter())
        return GroupReader(self.journal, consumer, self.member, counts, claim_idle=self.claim_idle)

    def stats_for(self, consumer: str, created: float) -> Stats:
        return Stats()

    async def rewinds(self) -> list[str]:
        return []  # `consumers rewind` moves the group itself (`RedisJournal.rewind_group`)

    async def rewind(self, consumer: str) -> None:
        pass

    @property
    def accepted(self) -> int:
        return self.journal.head

    def lag(self, consumer: str, stats: Stats, running: bool) -> int | None:
        group = self.groups.get(consumer)
        lag = group.get("lag") if group else None
        pending = int(group.get("pending") or 0) if group else 0
        return int(lag) + pending if lag is not None else None

    def behind(self, stats: Stats) -> int:
        return _MAX_SEQ  # entries are read back from Redis: nothing translated ahead is kept

    def describe(self, consumer: str, snapshot: dict[str, Any]) -> None:
        """This member's name and the whole cluster's figures for the consumer."""
        group = self.groups.get(consumer)
        members = [
            s["consumers"][consumer] for s in self.cluster.values() if consumer in s["consumers"]
        ]
        snapshot["member"] = self.member
        snapshot["cluster"] = {
            "processes": len(members),
            "delivered": sum(m.get("delivered", 0) for m in members),
            "pending": int(group.get("pending") or 0) if group else 0,
            "claimed": sum(m.get("group", {}).get("claimed", 0) for m in members),
        }

    async def observe(self, stats: dict[str, Stats], privacy: dict[str, int]) -> None:
        """Publish our figures; read the groups' and the other members' (for status and trim)."""
        with unavailable():
            await self._write_status(stats, privacy)
            self.groups = await self._groups()
            raw: dict[Any, Any] = await self._redis().hgetall(self.journal.status_key)
            await asyncio.to_thread(self.journal.refresh)
        fresh = time.time() - max(10.0, 5 * self.poll_interval)
        cluster = {text(k): orjson.loads(v) for k, v in raw.items()}
        self.cluster = {m: s for m, s in cluster.items() if s.get("at", 0) >= fresh}
        for name in [n for n in self.counts if n not in stats]:
            del self.counts[name]

    async def _groups(self) -> dict[str, dict[str, Any]]:
        """XINFO GROUPS of the journal stream, by group name (none before the stream exists)."""
        try:
            infos: Any = await self._redis().xinfo_groups(self.journal.stream)
        except ResponseError as exc:
            if "no such key" in str(exc).lower():
                return {}
            raise
        return {text(g["name"]): g for g in infos}

    def learners_retired(self) -> None:
        pass  # entries are read back from Redis each time: nothing of them is kept here

    async def _write_status(self, stats: dict[str, Stats], privacy: dict[str, int]) -> None:
        consumers = {}
        for name, figures in stats.items():
            snap = figures.snapshot()
            snap["group"] = dict(self.counts.get(name, {}))
            consumers[name] = snap
        payload = orjson.dumps({"at": time.time(), "consumers": consumers, "privacy": privacy})
        await self._redis().hset(self.journal.status_key, self.member, payload)

    async def lease(self) -> bool:
        """Whether this process holds (or just took) the housekeeping lease for a few polls."""
        key = f"{self.journal.prefix}:lease:housekeeping"
        ttl = int(max(5.0, 3 * self.poll_interval) * 1000)
        with unavailable():
            client = self._redis()
            if await client.set(key, self.member, nx=True, px=ttl):
                return True
            if text(await client.get(key) or b"") == self.member:
                await client.pexpire(key, ttl)
                return True
        return False

    async def housekeep(
        self, status: dict[str, bytes], enabled: list[str], retention: float
    ) -> None:
        if time.monotonic() - self._last_trim < self.trim_interval:
            return
        self._last_trim = time.monotonic()
        trimmed = await self.trim(enabled, retention)
        if trimmed:
            log.info("trimmed %d journal entries", trimmed)
        with unavailable():
            await self._forget_gone_members()

    async def trim(self, enabled: list[str], retention: float) -> int:
        """XTRIM below what every enabled consumer's group still needs, and the retention window."""
        wanted = set(enabled)
        if not wanted:
            return 0
        with unavailable():
            client = self._redis()
            groups = await self._groups()
            if not wanted <= set(groups):
                return 0  # a group is not created yet: its start point is not known to be safe
            floors = [_ms_floor(time.time() - retention)]
            for name in wanted:
                group = groups[name]
                if int(group["pending"]):
                    summary: Any = await client.xpending(self.journal.stream, name)
                    if summary.get("min"):
                        floors.append(_parse(text(summary["min"])))
                        continue
                ms, n = _parse(text(group["last-delivered-id"]))
                floors.append((ms + 1, 0) if n == _MAX_SEQ else (ms, n + 1))
            ms, n = min(floors)
            stream = self.journal.stream
            return int(await client.xtrim(stream, minid=f"{ms}-{n}", approximate=False))

    async def _forget_gone_members(self) -> None:
        """Drop group members idle for an hour with nothing pending (each restart adds one)."""
        client = self._redis()
        for name in self.groups:
            members: Any = await client.xinfo_consumers(self.journal.stream, name)
            for member in members:
                member_name = text(member["name"])
                idle = int(member.get("idle", 0)) / 1000
                if member_name != self.member and not int(member["pending"]) and idle > _GONE_AFTER:
                    await client.xgroup_delconsumer(self.journal.stream, name, member_name)
        stale = time.time() - _GONE_AFTER
        raw: dict[Any, Any] = await client.hgetall(self.journal.status_key)
        gone = [k for k, v in raw.items() if orjson.loads(v).get("at", 0) < stale]
        if gone:
            await client.hdel(self.journal.status_key, *gone)

    async def close(
        self, status: dict[str, bytes], stats: dict[str, Stats], privacy: dict[str, int]
    ) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self._write_status(stats, privacy)
        if self._client is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._client.aclose()
            self._client = None


def _parse(entry_id: str) -> tuple[int, int]:
    ms, _, n = entry_id.partition("-")
    return int(ms), int(n or 0)


def _ms_floor(moment: float) -> tuple[int, int]:
    return max(0, int(moment * 1000)), 0
