"""The delivery engine of one router process: one `Delivery` per enabled consumer, kept in step
with the store, whichever journal backs it.

It polls the store's consumer revision every second, so an added, changed, disabled or removed
consumer takes effect within a second or two without a restart; restarts a delivery that crashed;
applies rewinds; publishes status for `event-router status`; re-sends dead letters an operator
marked for replay; and has the journal trimmed below the slowest enabled consumer once the
retention window has passed. How each consumer reads the journal, and what status and trimming
mean there, is the journal's part (`delivery.reader.Readers`: `CursorReaders` for SQLite,
`GroupReaders` for a Redis stream shared by N processes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

import orjson

from event_router.delivery.consumer import Delivery
from event_router.delivery.dead_letters import DeadLetters
from event_router.delivery.encoder import Encoder, TranslationCache
from event_router.delivery.history import Recorder, lags
from event_router.delivery.made_at_ingest import MadeAtIngest, shares_translations, warm_pairs
from event_router.delivery.reader import Readers
from event_router.delivery.stats import State, Stats
from event_router.plugins.loader import missing_hooks
from event_router.privacy.screen import STATUS_ROW, Privacy, Screen
from event_router.routing.catalogue import CourseCatalogue
from event_router.routing.consumer import Consumer
from event_router.routing.identity import IdentityPolicy, IdentityTable, Policy
from event_router.sinks.base import SinkError, build_sink
from event_router.sinks.stream import STREAM
from event_router.store import Store, StoreError
from event_router.stream.hub import Hub
from event_router.translate import Options
from event_router.translate.workers import ProtocolPolicies, TranslationPool

log = logging.getLogger(__name__)


@dataclass
class Running:
    consumer: Consumer
    delivery: Delivery | Hub  # a stream consumer's hub feeds its subscribers instead of a sink
    task: asyncio.Task[None]


async def settle_task(name: str, task: asyncio.Task[None], timeout: float) -> None:
    """Wait for a stopping delivery to finish its batches in flight; cancel it after `timeout`."""
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout)
    except (TimeoutError, asyncio.CancelledError):
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
    except Exception:
        log.exception("delivery to %s failed while stopping", name)


class Engine:
    """Owns the per-consumer deliveries of one router process."""

    def __init__(
        self,
        readers: Readers,
        store: Store,
        *,
        lms_url: str,
        secret_key: str,
        retention: float = 7 * 86_400,
        poll_interval: float = 1.0,
        translation_workers: int = 0,
        drop_fields: tuple[tuple[str, ...], ...] = (),
        process: str = "local",
    ) -> None:
        self.readers = readers
        self.store = store
        self.lms_url = lms_url
        self.secret_key = secret_key
        self.retention = retention
        self.poll_interval = poll_interval
        self.cache = TranslationCache()
        self.pool = TranslationPool(translation_workers) if translation_workers > 0 else None
        self.stats: dict[str, Stats] = {}
        self.privacy = Privacy(Screen(secret_key, drop_fields))
        self.dead_letters = DeadLetters(store)
        self.warm: ProtocolPolicies = ()  # what sources translate ahead (see `sources.intake`)
        self.made = MadeAtIngest()  # ... and where they leave those translations for delivery
        # Figures over time, one row a minute per consumer; `process` names this process's rows.
        self.history = Recorder(store, process)
        self._running: dict[str, Running] = {}
        self._options: dict[Policy, Options] = {}
        self._tables: tuple[IdentityTable, CourseCatalogue, frozenset[str]] | None = None
        self._revision = -1
        self._last_tables = 0.0
        self._created: dict[str, float] = {}

    # -- lifecycle --

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set, then stop every delivery gracefully; an outage of the
        journal or the control plane is logged and waited out."""
        try:
            while not stop.is_set():
                try:
                    await self._rewinds()
                    await self.sync()
                    self.warm = self._warm_pairs()
                    self.made.settled(self._settled())
                    await self.readers.observe(self.stats, self._privacy_figures())
                    leased = await self.readers.lease()
                    if leased:
                        await self._replays()
                        await self.readers.housekeep(
                            self._status(), self._enabled(), self.retention
                        )
                    await self._record_history(leased)
                except (OSError, StoreError) as exc:
                    log.warning("journal or control plane unavailable: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.poll_interval)
        finally:
            await self.shutdown()

    async def sync(self) -> None:
        """Apply consumer changes from the store (and fresh identity/course tables)."""
        revision = await asyncio.to_thread(self.store.consumers.revision)
        if revision == self._revision and not self._tables_stale():
            self._reap()
            return
        await self._refresh_tables()
        records = await asyncio.to_thread(self.store.consumers.records)
        wanted = {r.consumer.name: r.consumer for r in records}
        self._created = {r.consumer.name: r.created_at.timestamp() for r in records}
        for name in list(self._running):
            current = wanted.get(name)
            if current is None or not current.enabled or current != self._running[name].consumer:
                await self._stop(name)
        for name, consumer in wanted.items():
            stats = self.stats.get(name) or self.readers.stats_for(name, self._created[name])
            self.stats[name] = stats
            self.history.watch(name, stats, self.readers.accepted, time.time())
            if not consumer.enabled:
                stats.state = State.DISABLED
            elif name not in self._running:
                await self._start(consumer, stats)
        for name in list(self.stats):
            if name not in wanted:
                del self.stats[name]
        self._revision = revision  # only now: a failed start is tried again next round

    async def _rewinds(self) -> None:
        """Apply the rewinds operators asked for (`consumers rewind`): the consumer's delivery
        stops (batches in flight settle), the journal moves it back, and `sync` starts it again."""
        for name in await self.readers.rewinds():
            if name in self._running:
                await self._stop(name)
            self._revision = -1  # the next sync starts it again, rewound or not
            await self.readers.rewind(name)

    async def _start(self, consumer: Consumer, stats: Stats) -> None:
        created = self._created.get(consumer.name, time.time())
        options = self.options(consumer.identity)
        encoder = Encoder(consumer, options, self.cache, self.pool, self.made)
        if consumer.sink == STREAM:  # subscribers read the journal where they are: no cursor
            self._start_hub(consumer, encoder, stats)
            return
        reader = await self.readers.reader(consumer.name, created)
        try:
            _hooks_installed(consumer)
            sink = build_sink(consumer, secret_key=self.secret_key)
        except SinkError as exc:
            await reader.close()
            stats.state = State.PAUSED
            stats.error(f"cannot deliver: {exc}")
            log.error("%s: %s", consumer.name, exc)
            return
        stats.state = State.RUNNING
        stats.last_error = None
        dead_letter = self.dead_letters.recorder(consumer.name, reader)
        delivery = Delivery(encoder, sink, reader, dead_letter, stats)
        task = asyncio.create_task(delivery.run(), name=f"deliver:{consumer.name}")
        self._running[consumer.name] = Running(consumer, delivery, task)

    def _start_hub(self, consumer: Consumer, encoder: Encoder, stats: Stats) -> None:
        tail = getattr(self.readers, "tail", None)
        if tail is None:
            stats.state = State.PAUSED
            stats.error("a stream consumer needs the SQLite journal (not a Redis one, yet)")
            return
        stats.state = State.RUNNING
        stats.last_error = None
        hub = Hub(encoder, tail(), stats)
        task = asyncio.create_task(hub.run(), name=f"stream:{consumer.name}")
        self._running[consumer.name] = Running(consumer, hub, task)

    def retry_now(self, consumer: str) -> bool | None:
        """Have a paused or backing-off delivery try at once: whether it was waiting (None: it
        does not run in this process)."""
        running = self._running.get(consumer)
        if running is None or not isinstance(running.delivery, Delivery):
            return None
        return running.delivery.retry_now()

    def end_streams(self) -> None:
        """Tell every stream's subscribers the router is stopping, so their connections end
        (the web server waits for open connections before it stops)."""
        for running in self._running.values():
            if isinstance(running.delivery, Hub):
                running.delivery.stop()

    def stream(self, consumer: str) -> Hub | None:
        """The hub of a stream consumer running in this process (None: not running here)."""
        running = self._running.get(consumer)
        return running.delivery if running and isinstance(running.delivery, Hub) else None

    def _warm_pairs(self) -> ProtocolPolicies:
        """What sources translate at ingest (`made_at_ingest.warm_pairs`): none without workers."""
        if self.pool is None:
            return ()
        running = self._running.values()
        return warm_pairs((r.consumer, self.readers.behind(r.delivery.stats)) for r in running)

    def _settled(self) -> int:
        """The seq every delivery and live stream that may use translations made at ingest has
        passed (a stream's: the newest event it offered its subscribers)."""
        return min(
            (
                r.delivery.position if isinstance(r.delivery, Hub) else r.delivery.stats.cursor
                for r in self._running.values()
                if shares_translations(r.consumer)
            ),
            default=-1,  # none runs
        )

    async def shutdown(self) -> None:
        await self._stop_all()
        await self._record_history(False, final=True)  # the minute under way, so far
        await self.readers.close(self._status(), self.stats, self._privacy_figures())
        if self.pool is not None:
            self.pool.close()

    # -- status and retention --

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Per consumer: the figures as status shows them, with `lag` (and what the journal
        adds: on Redis, this member and the whole cluster)."""
        out = {}
        for name, stats in self.stats.items():
            snap = stats.snapshot()
            snap["lag"] = self.readers.lag(name, stats, name in self._running)
            self.readers.describe(name, snap)
            if (hub := self.stream(name)) is not None:
                snap["stream"] = hub.describe()
                snap["lag"] = snap["stream"]["max_lag"]
            out[name] = snap
        return out

    def _status(self) -> dict[str, bytes]:
        status = {name: orjson.dumps(snap) for name, snap in self.snapshot().items()}
        # Not a consumer (no consumer name starts with "_"): `event-router status` reads it.
        status[STATUS_ROW] = orjson.dumps(self._privacy_figures())
        return status

    def _privacy_figures(self) -> dict[str, int]:
        return {"retired_events_dropped": self.privacy.dropped}

    async def _record_history(self, leased: bool, *, final: bool = False) -> None:
        """Once a minute, the minute's figures to the control plane (on a thread); the process
        holding the lease also downsamples and prunes everyone's. `final`: the minute under way
        is written now (a process started again within it adds to that row)."""
        now, accepted = time.time() + (60 if final else 0), self.readers.accepted
        rows = self.history.take(self.stats, lambda: lags(self.snapshot()), accepted, now)
        if rows is not None:
            await asyncio.to_thread(self.history.write, rows, leased)

    def _enabled(self) -> list[str]:
        """Every enabled consumer, running or not (one paused because its sink cannot be built
        still needs its events)."""
        return [name for name, stats in self.stats.items() if stats.state is not State.DISABLED]

    async def trim(self) -> int:
        """Trim the journal now (housekeeping does it now and then)."""
        return await self.readers.trim(self._enabled(), self.retention)

    # -- translation options: one per identity policy, tables refreshed each minute --

    async def _refresh_tables(self) -> None:
        """Read the tables on a thread; use them, if they changed, on the event loop."""
        changed = await asyncio.to_thread(self._read_tables)
        if changed is not None:
            self._use_tables(*changed)

    async def reload_tables(self) -> None:
        """`_refresh_tables` now, not at the next poll: a learner forgotten through this
        process's API is screened out at once, in the workers too."""
        await self._refresh_tables()

    def _read_tables(self) -> tuple[IdentityTable, CourseCatalogue] | None:
        """The identity and course tables, if they or the retired list differ from those in use
        (the workers are then restarted with them, their work under way finishing with the old
        ones). A new retired list is the privacy screen's from now on, here and in the workers."""
        identities, catalogue = self.store.identities.table(), self.store.courses.catalogue()
        retired = self.store.retired.keys()
        self._last_tables = time.monotonic()
        if self._options and self._tables == (identities, catalogue, retired):
            return None
        self._tables = (identities, catalogue, retired)
        old = self.privacy.screen
        screen = Screen(old.secret, old.drop, retired)
        if self.pool is not None:
            self.pool.configure(self.secret_key, self.lms_url, identities, catalogue, screen)
        self.privacy.screen = screen
        if retired - old.retired:
            # Perhaps forgotten by another process: what this one holds of their events in
            # memory goes (translations are dropped with the tables, in `_use_tables`; those
            # made at ingest here).
            self.readers.learners_retired()
            self.made.clear()
        return identities, catalogue

    def _use_tables(self, identities: IdentityTable, catalogue: CourseCatalogue) -> None:
        """Translate with these tables from now on: every running delivery from its next batch,
        as `transform` would, and cached translations made with the old ones are dropped. Those
        made at ingest for the newest events, or under way, still serve the events they were
        made for (a few seconds' worth). On the event loop, where the deliveries run."""
        self._options = {
            policy: Options(
                lms_url=self.lms_url,
                identity=IdentityPolicy(self.secret_key, self.lms_url, identities, policy),
                courses=catalogue,
            )
            for policy in Policy
        }
        self.cache.clear()
        for running in self._running.values():
            running.delivery.encoder.options = self._options[running.consumer.identity]

    def _tables_stale(self) -> bool:
        return time.monotonic() - self._last_tables > 60

    def options(self, policy: Policy) -> Options:
        if not self._options:
            tables = self._read_tables()
            assert tables is not None  # nothing in use yet: they are new
            self._use_tables(*tables)
        return self._options[policy]

    # -- running deliveries --

    async def _stop(self, name: str, timeout: float = 10.0) -> None:
        running = self._running.pop(name)
        running.delivery.stop()
        await settle_task(name, running.task, timeout)

    async def _stop_all(self) -> None:
        for name in list(self._running):
            await self._stop(name)

    def _reap(self) -> None:
        """Forget a delivery whose task died of an unexpected error (and say why); the next
        `sync` starts it again."""
        for name, running in list(self._running.items()):
            if running.task.done() and not running.task.cancelled():
                error = running.task.exception()
                if error is not None:
                    log.error("delivery to %s crashed: %r; restarting", name, error)
                    running.delivery.stats.error(f"internal error: {error!r}")
                    del self._running[name]
                    self._revision = -1

    async def _replays(self) -> None:
        """Re-send the dead letters an operator marked for replay."""
        for name, running in list(self._running.items()):
            if isinstance(running.delivery, Delivery):  # a stream has no dead letters
                await self.dead_letters.replay(name, running.delivery)


def _hooks_installed(consumer: Consumer) -> None:
    """A consumer whose hooks are not all installed waits (paused, with the reason) rather than
    have every event refused: a hook may be what keeps something out of its statements."""
    missing = missing_hooks(consumer.hooks)
    if missing:
        raise SinkError(f"hook(s) not installed in the router: {', '.join(missing)}")
