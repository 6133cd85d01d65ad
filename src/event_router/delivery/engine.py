"""The delivery engine: one `Delivery` per enabled consumer, kept in step with the store.

It polls the store's consumer revision every second, so an added, changed, disabled or removed
consumer takes effect within a second or two without a restart; writes status snapshots for
`event-router status`; re-sends dead letters an operator marked for replay; and trims the journal
below the slowest enabled consumer once the retention window has passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from typing import Any

import orjson

from event_router.delivery.consumer import DeadLetter, Delivery, Item
from event_router.delivery.encoder import Encoder
from event_router.delivery.engine_base import BaseEngine, Running
from event_router.delivery.stats import State, Stats
from event_router.delivery.workers import Warm
from event_router.journal import SqliteJournal
from event_router.privacy.screen import STATUS_ROW
from event_router.routing.consumer import Consumer, Protocol
from event_router.sinks.base import SinkError, build_sink
from event_router.sinks.outcome import Outcome
from event_router.store import Store

log = logging.getLogger(__name__)
WARM_LAG = 10_000  # events: half the journal's in-memory tail


class Engine(BaseEngine):
    """Owns the per-consumer deliveries of one router process."""

    def __init__(
        self,
        journal: SqliteJournal,
        store: Store,
        *,
        lms_url: str,
        secret_key: str,
        retention: float = 7 * 86_400,
        poll_interval: float = 1.0,
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
        self._last_trim = 0.0
        self.warm: Warm = ()  # what sources translate ahead (see `sources.intake`)
        self._previous: dict[str, tuple[bytes, float]] | None = None  # last run's snapshots

    # -- lifecycle --

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set, then stop every delivery gracefully."""
        try:
            while not stop.is_set():
                await self._rewinds()
                await self.sync()
                self.warm = self._warm_pairs()
                await self._replays()
                try:
                    # On a thread: a status write is a commit (an fsync), a trim may delete a
                    # minute of events; neither may hold up the loop that ingests and sends.
                    await asyncio.to_thread(self._housekeeping, self._status(), self._enabled())
                except sqlite3.Error as exc:  # a full disk: delivery goes on, retried next round
                    log.warning("cannot write status or trim the journal: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.poll_interval)
        finally:
            await self.shutdown()

    async def sync(self) -> None:
        """Apply consumer changes from the store (and fresh identity/course tables)."""
        revision = await asyncio.to_thread(self.store.consumers_revision)
        if revision == self._revision and not self._tables_stale():
            self._reap()
            return
        await self._refresh_tables()
        self._revision = revision
        records = await asyncio.to_thread(self.store.consumers.records)
        wanted = {r.consumer.name: r.consumer for r in records}
        self._created = {r.consumer.name: r.created_at.timestamp() for r in records}
        for name in list(self._running):
            current = wanted.get(name)
            running = self._running[name]
            if current is None or not current.enabled or current != running.consumer:
                await self._stop(name)
        for name, consumer in wanted.items():
            stats = self.stats.get(name) or self._stats_for(name)
            self.stats[name] = stats
            if not consumer.enabled:
                stats.state = State.DISABLED
                continue
            if name not in self._running:
                self._start(consumer, stats)
        for name in list(self.stats):
            if name not in wanted:
                del self.stats[name]

    def _stats_for(self, name: str) -> Stats:
        """New figures for a consumer, going on from its last snapshot of an earlier run (not
        from one left by a removed consumer of the same name)."""
        if self._previous is None:
            self._previous = self.journal.read_status()
        found = self._previous.pop(name, None)
        if found is None or found[1] < self._created.get(name, 0.0):
            return Stats()
        return Stats.carried_over(orjson.loads(found[0]))

    async def _rewinds(self) -> None:
        """Apply the rewinds operators asked for (`consumers rewind`): the consumer's delivery
        stops (batches in flight settle), its cursor moves back, and `sync` starts it again."""
        try:
            asked = await asyncio.to_thread(self.journal.rewinds)
        except sqlite3.Error as exc:
            log.warning("cannot read rewind requests now: %s", exc)
            return
        for name in asked:
            if name in self._running:
                await self._stop(name)
            self._revision = -1  # the next sync starts it again, rewound or not
            try:
                seq = await asyncio.to_thread(self.journal.apply_rewind, name)
            except sqlite3.Error as exc:  # a full disk, say: the request stays, tried again
                log.warning("cannot rewind %s now: %s", name, exc)
                continue
            log.info("%s rewound by an operator: delivering again from seq %s", name, seq)

    def _start(self, consumer: Consumer, stats: Stats) -> None:
        created = self._created.get(consumer.name, time.time())
        cursor = self.journal.cursor_at(consumer.name)
        if cursor is not None and cursor[1] < created:
            # Left by an earlier consumer of the same name, removed since: not this one's.
            log.info("%s is a new consumer: its name's old cursor is not used", consumer.name)
            cursor = None
        if cursor is None:
            # A new consumer receives what was accepted after it was created, even if the
            # router was not running then (or saw the consumer a second later).
            start = self.journal.seq_before(created)
            self.journal.submit((), None, {consumer.name: start}).result()
        else:
            start = cursor[0]
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
        delivery = Delivery(encoder, sink, self.journal, self._dead_letter_for(consumer), stats)
        task = asyncio.create_task(delivery.run(start), name=f"deliver:{consumer.name}")
        self._running[consumer.name] = Running(consumer, delivery, task)
        log.info("delivering to %s from seq %d", consumer.name, start)

    def _learners_retired(self) -> None:
        """The journal's in-memory tail may hold events another process just redacted."""
        self.journal.drop_recent()

    def _warm_pairs(self) -> Warm:
        """(protocol, identity policy) of the deliveries worth translating for at ingest: those
        that take every event and read the journal's in-memory tail (a consumer far behind would
        find those translations gone by the time it gets there)."""
        if self.pool is None:
            return ()
        head = self.journal.head
        pairs = {
            (r.consumer.protocol.value, r.consumer.identity.value)
            for r in self._running.values()
            if r.consumer.protocol is not Protocol.EDX
            and r.consumer.route.is_open
            and head - r.delivery.stats.cursor < WARM_LAG
        }
        return tuple(sorted(pairs))

    async def shutdown(self) -> None:
        await self._stop_all()
        self._write_status(self._status())
        self._close_pool()

    # -- dead letters --

    def _dead_letter_for(self, consumer: Consumer) -> DeadLetter:
        async def dead_letter(item: Item, outcome: Outcome) -> None:
            await self._record_dead_letter(
                consumer.name, item, self.journal.body(item.seq), outcome
            )

        return dead_letter

    # -- status and retention --

    def snapshot(self) -> dict[str, dict[str, Any]]:
        head = self.journal.head
        out = {}
        for name, stats in self.stats.items():
            snap = stats.snapshot()
            # A running delivery's cursor is known, 0 included (nothing delivered yet on a new
            # journal: its whole backlog is lag); a consumer not running has none to show.
            snap["lag"] = max(0, head - stats.cursor) if name in self._running else None
            out[name] = snap
        return out

    def _status(self) -> dict[str, bytes]:
        status = {name: orjson.dumps(snap) for name, snap in self.snapshot().items()}
        # Not a consumer (no consumer name starts with "_"): `event-router status` reads it.
        status[STATUS_ROW] = orjson.dumps({"retired_events_dropped": self.privacy.dropped})
        return status

    def _enabled(self) -> list[str]:
        """Every enabled consumer, running or not (one paused because its sink cannot be built
        still needs its events)."""
        return [name for name, stats in self.stats.items() if stats.state is not State.DISABLED]

    def _housekeeping(self, snapshots: dict[str, bytes], enabled: list[str]) -> None:
        """Write the status snapshots, and trim the journal once a minute. Runs on a thread
        (see `run`): it gets what it needs from the loop, and reads nothing the loop changes."""
        self._write_status(snapshots)
        self._maybe_trim(enabled)

    def _write_status(self, snapshots: dict[str, bytes]) -> None:
        if snapshots:
            self.journal.write_status(snapshots)

    def _maybe_trim(self, enabled: list[str]) -> None:
        """Trim below every enabled consumer's cursor and the retention window, once a minute
        (disabled consumers keep their events only for the retention window)."""
        now = time.time()
        if now - self._last_trim < 60:
            return
        self._last_trim = now
        cursors = self.journal.cursors()
        floors = [cursors.get(name, 0) for name in enabled]
        if not floors:
            return
        trimmed = self.journal.trim(min(floors), now - self.retention)
        if trimmed:
            log.info("trimmed %d journal events", trimmed)
