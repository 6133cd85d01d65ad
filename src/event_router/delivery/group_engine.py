"""The delivery engine of one router process in scale-out mode (journal on Redis).

Like `delivery.engine.Engine`, it runs one delivery per enabled consumer and follows the store
(PostgreSQL, shared by every process) within a second; but each delivery is a member of the
consumer's group (`delivery.group`), so N processes share every consumer's work. Each process
writes its figures to `<prefix>:status` and reads everyone's, so any process can show the whole
cluster. Housekeeping that must not run N times at once (re-sending dead letters marked for
replay, trimming the stream, forgetting members that are long gone) runs in whichever process
holds a short lease.

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

from event_router.delivery.encoder import Encoder
from event_router.delivery.engine_base import BaseEngine, Running
from event_router.delivery.group import GroupDelivery, RecordDeadLetter
from event_router.delivery.sender import Item
from event_router.delivery.stats import State, Stats
from event_router.journal.redis import RedisJournal, text
from event_router.routing.consumer import Consumer
from event_router.sinks.base import SinkError, build_sink
from event_router.sinks.outcome import Outcome
from event_router.store import Store, StoreError

log = logging.getLogger(__name__)
_MAX_SEQ = (1 << 64) - 1
_GONE_AFTER = 3600.0  # a member idle this long with nothing pending is forgotten


class GroupEngine(BaseEngine):
    """Owns this process's membership in every enabled consumer's group."""

    def __init__(
        self,
        journal: RedisJournal,
        store: Store,
        *,
        member: str,
        lms_url: str,
        secret_key: str,
        claim_idle: float = 30.0,
        retention: float = 7 * 86_400,
        poll_interval: float = 1.0,
        trim_interval: float = 60.0,
        translation_workers: int = 0,
        drop_fields: tuple[tuple[str, ...], ...] = (),
    ) -> None:
        super().__init__(
            store,
            lms_url=lms_url,
            secret_key=secret_key,
            retention=retention,
            poll_interval=poll_interval,
            translation_workers=translation_workers,
            drop_fields=drop_fields,
        )
        self.journal = journal
        self.member = member
        self.claim_idle = claim_idle
        self.trim_interval = trim_interval
        self.counts: dict[str, Counter[str]] = {}  # per consumer: resumed, claimed, lost
        self.groups: dict[str, dict[str, Any]] = {}  # XINFO GROUPS, by group name
        self.cluster: dict[str, dict[str, Any]] = {}  # member -> its last status snapshot
        self._last_trim = 0.0
        self._wanted: set[str] = set()
        self._client: aioredis.Redis | None = None

    # -- lifecycle --

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set; a Redis or store outage is logged and waited out."""
        self._client = self.journal.async_client()
        try:
            while not stop.is_set():
                try:
                    await self.sync()
                    await self._observe()
                    if await self._lease("housekeeping"):
                        await self._replays()
                        await self._maybe_trim()
                except (RedisError, OSError, StoreError) as exc:
                    log.warning("journal or control plane unavailable: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.poll_interval)
        finally:
            await self.shutdown()

    async def sync(self) -> None:
        """Apply consumer changes from the store: join new groups, leave removed ones."""
        revision = await asyncio.to_thread(self.store.consumers_revision)
        if revision == self._revision and not self._tables_stale():
            self._reap()
            return
        await self._refresh_tables()
        records = await asyncio.to_thread(self.store.consumers.records)
        wanted = {r.consumer.name: r.consumer for r in records}
        self._created = {r.consumer.name: r.created_at.timestamp() for r in records}
        self._wanted = {name for name, c in wanted.items() if c.enabled}
        for name in list(self._running):
            current = wanted.get(name)
            if current is None or not current.enabled or current != self._running[name].consumer:
                await self._stop(name)
        for name, consumer in wanted.items():
            stats = self.stats.setdefault(name, Stats())
            if not consumer.enabled:
                stats.state = State.DISABLED
            elif name not in self._running:
                await self._start(consumer, stats)
        for name in list(self.stats):
            if name not in wanted:
                del self.stats[name]
                self.counts.pop(name, None)
        self._revision = revision  # only now: a failed start is tried again next round

    async def _start(self, consumer: Consumer, stats: Stats) -> None:
        # A new consumer receives what was accepted after it was created (as on SQLite): its
        # group starts at that moment of the stream, whichever process creates it first.
        created = self._created.get(consumer.name, time.time())
        await self._ensure_group(consumer.name, created)
        encoder = Encoder(consumer, self.options(consumer.identity), self.cache, self.pool)
        try:
            sink = build_sink(consumer, secret_key=self.secret_key)
        except SinkError as exc:
            stats.state = State.PAUSED
            stats.error(f"cannot deliver: {exc}")
            log.error("%s: %s", consumer.name, exc)
            return
        stats.state = State.RUNNING
        stats.last_error = None
        delivery = GroupDelivery(
            encoder,
            sink,
            self.journal,
            self.member,
            self._recorder(consumer),
            stats,
            self.counts.setdefault(consumer.name, Counter()),
            claim_idle=self.claim_idle,
        )
        task = asyncio.create_task(delivery.run(), name=f"deliver:{consumer.name}")
        self._running[consumer.name] = Running(consumer, delivery, task)
        log.info("delivering to %s as member %s of its group", consumer.name, self.member)

    async def _ensure_group(self, name: str, created: float) -> None:
        start = f"{max(0, int(created * 1000) - 1)}-{_MAX_SEQ}"
        try:
            await self._redis().xgroup_create(self.journal.stream, name, id=start, mkstream=True)
            log.info("created consumer group %s at %s", name, start)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def shutdown(self) -> None:
        await self._stop_all()
        with contextlib.suppress(RedisError, OSError):
            await self._write_status()
        if self._client is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._client.aclose()
            self._client = None
        self._close_pool()

    def _redis(self) -> aioredis.Redis:
        if self._client is None:
            self._client = self.journal.async_client()
        return self._client

    # -- dead letters --

    def _recorder(self, consumer: Consumer) -> RecordDeadLetter:
        async def record(item: Item, body: bytes | None, outcome: Outcome) -> None:
            await self._record_dead_letter(consumer.name, item, body, outcome)

        return record

    # -- cluster view and status --

    async def _observe(self) -> None:
        """Publish our figures; read the groups' and the other members' (for status and trim)."""
        await self._write_status()
        client = self._redis()
        self.groups = await self._groups()
        raw: dict[Any, Any] = await client.hgetall(self.journal.status_key)
        fresh = time.time() - max(10.0, 5 * self.poll_interval)
        cluster = {text(k): orjson.loads(v) for k, v in raw.items()}
        self.cluster = {m: s for m, s in cluster.items() if s.get("at", 0) >= fresh}
        await asyncio.to_thread(self.journal.refresh)

    async def _groups(self) -> dict[str, dict[str, Any]]:
        """XINFO GROUPS of the journal stream, by group name (none before the stream exists)."""
        try:
            infos: Any = await self._redis().xinfo_groups(self.journal.stream)
        except ResponseError as exc:
            if "no such key" in str(exc).lower():
                return {}
            raise
        return {text(g["name"]): g for g in infos}

    async def _write_status(self) -> None:
        consumers = {}
        for name, stats in self.stats.items():
            snap = stats.snapshot()
            snap["group"] = dict(self.counts.get(name, {}))
            consumers[name] = snap
        privacy = {"retired_events_dropped": self.privacy.dropped}
        payload = orjson.dumps({"at": time.time(), "consumers": consumers, "privacy": privacy})
        await self._redis().hset(self.journal.status_key, self.member, payload)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """This process's figures per consumer, with the group's and the whole cluster's."""
        out = {}
        for name, stats in self.stats.items():
            snap = stats.snapshot()
            group = self.groups.get(name)
            lag = group.get("lag") if group else None
            pending = int(group.get("pending") or 0) if group else 0
            snap["lag"] = int(lag) + pending if lag is not None else None
            members = [
                s["consumers"][name] for s in self.cluster.values() if name in s["consumers"]
            ]
            snap["member"] = self.member
            snap["cluster"] = {
                "processes": len(members),
                "delivered": sum(m.get("delivered", 0) for m in members),
                "pending": pending,
                "claimed": sum(m.get("group", {}).get("claimed", 0) for m in members),
            }
            out[name] = snap
        return out

    # -- housekeeping (one process at a time) --

    async def _lease(self, name: str) -> bool:
        """Whether this process holds (or just took) the named lease for the next few polls."""
        key = f"{self.journal.prefix}:lease:{name}"
        ttl = int(max(5.0, 3 * self.poll_interval) * 1000)
        client = self._redis()
        if await client.set(key, self.member, nx=True, px=ttl):
            return True
        if text(await client.get(key) or b"") == self.member:
            await client.pexpire(key, ttl)
            return True
        return False

    async def _maybe_trim(self) -> None:
        if time.monotonic() - self._last_trim < self.trim_interval:
            return
        self._last_trim = time.monotonic()
        trimmed = await self.trim()
        if trimmed:
            log.info("trimmed %d journal entries", trimmed)
        await self._forget_gone_members()

    async def trim(self) -> int:
        """XTRIM below what every enabled consumer's group still needs, and the retention window."""
        wanted = self._wanted
        if not wanted:
            return 0
        client = self._redis()
        groups = await self._groups()
        if not wanted <= set(groups):
            return 0  # a group is not created yet: its start point is not known to be safe
        floors = [_ms_floor(time.time() - self.retention)]
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
        return int(await client.xtrim(self.journal.stream, minid=f"{ms}-{n}", approximate=False))

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


def _parse(entry_id: str) -> tuple[int, int]:
    ms, _, n = entry_id.partition("-")
    return int(ms), int(n or 0)


def _ms_floor(moment: float) -> tuple[int, int]:
    return max(0, int(moment * 1000)), 0
