"""What both delivery engines share: translation options per identity policy, the deliveries they
run, restarting a crashed one, stopping them, dead letters and their replay.

`delivery.engine.Engine` (journal in SQLite, one process) and `delivery.group_engine.GroupEngine`
(journal on Redis, N processes) differ only in how a delivery reads the journal and where status
goes; everything here behaves the same in both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from event_router.delivery.encoder import Encoder, TranslationCache
from event_router.delivery.sender import Item
from event_router.delivery.stats import Stats
from event_router.delivery.workers import TranslationPool
from event_router.privacy.screen import Privacy, Screen
from event_router.routing.catalogue import CourseCatalogue
from event_router.routing.consumer import Consumer
from event_router.routing.identity import IdentityPolicy, IdentityTable, Policy
from event_router.sinks.base import Sink
from event_router.sinks.outcome import Outcome, Verdict
from event_router.store import Store
from event_router.translate import Options

log = logging.getLogger(__name__)


class Runnable(Protocol):
    """A running delivery, whichever journal it reads."""

    stats: Stats
    sink: Sink
    encoder: Encoder

    def stop(self) -> None: ...


@dataclass
class Running:
    consumer: Consumer
    delivery: Runnable
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


class BaseEngine:
    """The deliveries of one router process, kept in step with the store by a subclass."""

    def __init__(
        self,
        store: Store,
        *,
        lms_url: str,
        secret_key: str,
        retention: float,
        poll_interval: float,
        translation_workers: int,
        drop_fields: tuple[tuple[str, ...], ...] = (),
    ) -> None:
        self.store = store
        self.lms_url = lms_url
        self.secret_key = secret_key
        self.retention = retention
        self.poll_interval = poll_interval
        self.cache = TranslationCache()
        self.pool = TranslationPool(translation_workers) if translation_workers > 0 else None
        self.stats: dict[str, Stats] = {}
        self._running: dict[str, Running] = {}
        self._options: dict[Policy, Options] = {}
        self._tables: tuple[IdentityTable, CourseCatalogue, frozenset[str]] | None = None
        self.privacy = Privacy(Screen(secret_key, drop_fields))
        self._revision = -1
        self._last_tables = 0.0
        self._created: dict[str, float] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Keep the deliveries in step with the store until `stop` is set."""
        raise NotImplementedError

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Per consumer: the figures as status shows them, with `lag`."""
        raise NotImplementedError

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
        identities, catalogue = self.store.identity_table(), self.store.catalogue()
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
            self._learners_retired()
        return identities, catalogue

    def _learners_retired(self) -> None:
        """Learners were forgotten (perhaps by another process): forget what this one holds
        of their events in memory. Translations are dropped with the tables (`_use_tables`)."""

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

    def _close_pool(self) -> None:
        if self.pool is not None:
            self.pool.close()

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

    # -- dead letters --

    async def _record_dead_letter(
        self, consumer: str, item: Item, body: bytes | None, outcome: Outcome
    ) -> None:
        """Keep what the endpoint refused, with the event it came from and the answer."""
        await asyncio.to_thread(
            self.store.add_dead_letter,
            consumer=consumer,
            event_seq=item.seq,
            event_name=item.name,
            event=orjson.loads(body) if body else None,
            item=orjson.loads(item.payload),
            status=outcome.status,
            answer=outcome.detail,
            reason=f"{outcome.verdict.value}",
        )

    async def _replays(self) -> None:
        """Re-send the dead letters an operator marked for replay; transient failures wait."""
        for name, running in list(self._running.items()):
            letters = await asyncio.to_thread(self.store.take_replays, name)
            for letter in letters:
                outcome = await running.delivery.sink.send([orjson.dumps(letter.item)])
                if outcome.verdict in (Verdict.DELIVERED, Verdict.DUPLICATE):
                    await asyncio.to_thread(self.store.mark_replayed, letter.id)
                    running.delivery.stats.delivered += 1
                elif outcome.verdict in (Verdict.RETRY, Verdict.PAUSE):
                    break  # the endpoint is not taking anything now: try again next round
                else:
                    await asyncio.to_thread(
                        self.store.mark_dead, letter.id, outcome.status, outcome.detail
                    )
