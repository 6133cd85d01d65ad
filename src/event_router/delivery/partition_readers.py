"""The Kafka journal's side of the engine (scale-out on disk): N processes, a group per consumer.

Each process joins every enabled consumer's Kafka consumer group (`delivery.partition_reader`);
Kafka shares the partitions among the live members and moves a dead member's to the others
once its session times out. Cursors are the groups' committed offsets; retention is the topic's
(Kafka deletes old segments): there is nothing to trim here.

Each process writes its figures to the control plane (`journal_state`, kind `status`) every poll
and reads everyone's, so any process, and `event-router status`, can show the whole cluster.
`consumers rewind` leaves a request there (kind `rewind`); each running process stops that
consumer's delivery, and its next reader starts the partitions of its first assignment at the
moment asked for (Kafka's offsets by time), committing that at once. Work that must not run N
times at once (re-sending dead letters marked for replay) runs in whichever process holds a
short lease in the control plane.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import orjson

from event_router.delivery.partition_reader import PartitionReader
from event_router.delivery.stats import Stats
from event_router.journal import JournalUnavailable
from event_router.journal.kafka import KafkaJournal

log = logging.getLogger(__name__)
REWIND_WINDOW = 60.0  # seconds a rewind request is applied by processes (running or starting)
_GONE_AFTER = 3600.0  # a process silent this long is dropped from the status rows
_FAR = 1 << 62


def group_name(prefix: str, consumer: str) -> str:
    """The Kafka consumer group of a router consumer on the journal `prefix`."""
    return f"{prefix}.{consumer}"


class PartitionReaders:
    """This process's membership in every enabled consumer's group on the journal topic."""

    def __init__(
        self,
        journal: KafkaJournal,
        *,
        member: str,
        poll_interval: float = 1.0,
        session_timeout: float | None = None,
    ) -> None:
        self.journal = journal
        self.state = journal.state
        self.member = member
        self.poll_interval = poll_interval
        self.session_timeout = session_timeout
        self.cluster: dict[str, dict[str, Any]] = {}  # member -> its last status snapshot
        self._readers: dict[str, PartitionReader] = {}
        self._started = time.time()
        self._applied: dict[str, float] = {}  # consumer -> `at` of the last rewind applied
        self._rewind_to: dict[str, float] = {}  # consumer -> moment its next reader starts at
        self._last_housekeeping = 0.0

    @property
    def label(self) -> str:
        return f"member {self.member} of journal topic {self.journal.topic}"

    async def reader(self, consumer: str, created: float) -> PartitionReader:
        reader = PartitionReader(
            self.journal,
            group_name(self.journal.prefix, consumer),
            created,
            rewind_to=self._rewind_to.pop(consumer, None),
            session_timeout=self.session_timeout,
        )
        self._readers[consumer] = reader
        log.info("delivering to %s as member %s of its group", consumer, self.member)
        return reader

    @property
    def accepted(self) -> int:
        return self.journal.head

    def stats_for(self, consumer: str, created: float) -> Stats:
        return Stats()

    async def rewinds(self) -> list[str]:
        """Consumers with a rewind request this process has not applied yet."""
        try:
            rows = await asyncio.to_thread(self.state.all, "rewind")
        except Exception as exc:
            raise JournalUnavailable(f"control plane: {exc}") from exc
        fresh = time.time() - REWIND_WINDOW
        due = []
        for name, (value, at) in rows.items():
            if at >= fresh and at > self._applied.get(name, 0.0):
                self._applied[name] = at
                self._rewind_to[name] = float(value)
                due.append(name)
        return due

    async def rewind(self, consumer: str) -> None:
        pass  # the consumer's next reader starts at `_rewind_to` (see `rewinds`)

    def lag(self, consumer: str, stats: Stats, running: bool) -> int | None:
        """The live processes' lag on their partitions, summed."""
        figures = [
            s["consumers"][consumer].get("journal_lag")
            for s in self.cluster.values()
            if consumer in s.get("consumers", {})
        ]
        known = [f for f in figures if f is not None]
        return sum(known) if known else None

    def behind(self, stats: Stats) -> int:
        return _FAR  # entries are read back from Kafka: nothing translated ahead is kept

    def describe(self, consumer: str, snapshot: dict[str, Any]) -> None:
        reader = self._readers.get(consumer)
        members = [
            s["consumers"][consumer]
            for s in self.cluster.values()
            if consumer in s.get("consumers", {})
        ]
        snapshot["member"] = self.member
        snapshot["partitions"] = sorted(reader.assigned) if reader else []
        snapshot["cluster"] = {
            "processes": len(members),
            "delivered": sum(m.get("delivered", 0) for m in members),
        }

    async def observe(self, stats: dict[str, Stats], privacy: dict[str, int]) -> None:
        """Publish our figures; read the other processes' (for status)."""
        try:
            await asyncio.to_thread(self._write_status, stats, privacy)
            rows = await asyncio.to_thread(self.state.all, "status")
            await asyncio.to_thread(self.journal.refresh)
        except Exception as exc:
            raise JournalUnavailable(f"journal or control plane: {exc}") from exc
        fresh = time.time() - max(10.0, 5 * self.poll_interval)
        self.cluster = {m: orjson.loads(v) for m, (v, at) in rows.items() if at >= fresh}
        for name in [n for n in self._readers if n not in stats]:
            del self._readers[name]

    def _write_status(self, stats: dict[str, Stats], privacy: dict[str, int]) -> None:
        consumers = {}
        for name, figures in stats.items():
            snap = figures.snapshot()
            reader = self._readers.get(name)
            snap["partitions"] = sorted(reader.assigned) if reader else []
            snap["journal_lag"] = reader.lag if reader else None
            consumers[name] = snap
        payload = orjson.dumps({"at": time.time(), "consumers": consumers, "privacy": privacy})
        self.state.put([("status", self.member, payload.decode())])

    def learners_retired(self) -> None:
        pass  # entries are read back from Kafka each time: nothing of them is kept here

    async def lease(self) -> bool:
        ttl = max(5.0, 3 * self.poll_interval)
        try:
            return await asyncio.to_thread(self.state.lease, "housekeeping", self.member, ttl)
        except Exception as exc:
            raise JournalUnavailable(f"control plane: {exc}") from exc

    async def housekeep(
        self, status: dict[str, bytes], enabled: list[str], retention: float
    ) -> None:
        """Drop the status rows of processes long gone and rewind requests already applied."""
        if time.monotonic() - self._last_housekeeping < 60:
            return
        self._last_housekeeping = time.monotonic()
        now = time.time()
        for kind, older in (("status", _GONE_AFTER), ("rewind", 10 * REWIND_WINDOW)):
            rows = await asyncio.to_thread(self.state.all, kind)
            gone = [name for name, (_, at) in rows.items() if at < now - older]
            if gone:
                await asyncio.to_thread(self.state.delete, kind, gone)

    async def trim(self, enabled: list[str], retention: float) -> int:
        return 0  # Kafka's retention (the topic's retention.ms) removes old events

    async def close(
        self, status: dict[str, bytes], stats: dict[str, Stats], privacy: dict[str, int]
    ) -> None:
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self._write_status, stats, privacy)
