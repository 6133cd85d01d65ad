"""Translation in worker processes, so a router uses more than the one core Python gives it.

The main process keeps what must be ordered and durable (sources, journal, cursors, sending);
translating and serialising — most of the CPU an event costs — runs in a process pool. Workers
are started with the router's secret and the identity and course tables, so they produce exactly
the bytes an in-process translation would; a new pool replaces the old when those tables change.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import orjson

from event_router.events import NormaliseError, parse_json
from event_router.routing.catalogue import CourseCatalogue
from event_router.routing.identity import IdentityPolicy, IdentityTable, Policy
from event_router.translate import Options, TranslationError, translate

log = logging.getLogger(__name__)

Translated = list[bytes] | str  # the serialised items, or why there are none

_OPTIONS: dict[str, Options] = {}


def build_options(
    secret: str, lms_url: str, table: IdentityTable, catalogue: CourseCatalogue
) -> dict[str, Options]:
    """One `Options` per identity policy, sharing the tables (the engine does the same)."""
    return {
        policy.value: Options(
            lms_url=lms_url,
            identity=IdentityPolicy(secret, lms_url, table, policy),
            courses=catalogue,
        )
        for policy in Policy
    }


def translate_bodies(options: Options, protocol: str, bodies: Sequence[bytes]) -> list[Translated]:
    """Parse, translate and serialise journal bodies; a reason string for each failure."""
    out: list[Translated] = []
    for body in bodies:
        try:
            items = translate(parse_json(body), protocol, options)
        except (TranslationError, NormaliseError) as exc:
            out.append(exc.reason)
            continue
        out.append([orjson.dumps(item) for item in items])
    return out


def _init(secret: str, lms_url: str, table: IdentityTable, catalogue: CourseCatalogue) -> None:
    import gc

    gc.set_threshold(20_000, 10, 10)  # as the main process: young often enough, full ones too
    _OPTIONS.update(build_options(secret, lms_url, table, catalogue))


def _work(protocol: str, policy: str, bodies: Sequence[bytes]) -> list[Translated]:
    return translate_bodies(_OPTIONS[policy], protocol, bodies)


class TranslationPool:
    """A process pool translating journal bodies; falls back to in-process work if it breaks."""

    def __init__(self, workers: int, min_chunk: int = 64) -> None:
        self.workers = workers
        self.min_chunk = min_chunk
        self._pool: ProcessPoolExecutor | None = None
        self._args: tuple[str, str, IdentityTable, CourseCatalogue] | None = None
        self._fallback: dict[str, Options] = {}

    def configure(
        self, secret: str, lms_url: str, table: IdentityTable, catalogue: CourseCatalogue
    ) -> None:
        """(Re)start the workers with these tables, unless they already have equal ones."""
        args = (secret, lms_url, table, catalogue)
        if self._args is not None and _same(self._args, args):
            return
        self.close()
        self._args = args
        self._fallback = build_options(*args)
        self._pool = ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init,
            initargs=args,
        )  # fmt: skip

    async def translate(
        self, protocol: str, policy: str, bodies: Sequence[bytes]
    ) -> list[Translated]:
        """Translate in the workers, split so every worker gets a share; order is kept."""
        if self._pool is None:
            raise RuntimeError("TranslationPool.configure() was not called")
        loop = asyncio.get_running_loop()
        size = max(self.min_chunk, -(-len(bodies) // self.workers))
        chunks = [bodies[i : i + size] for i in range(0, len(bodies), size)]
        try:
            parts = await asyncio.gather(
                *(loop.run_in_executor(self._pool, _work, protocol, policy, c) for c in chunks)
            )
        except BrokenProcessPool:
            log.error("translation workers died; translating in-process and restarting them")
            args, self._args = self._args, None
            if args is not None:
                self.configure(*args)
            return translate_bodies(self._fallback[policy], protocol, bodies)
        return [item for part in parts for item in part]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _same(
    old: tuple[str, str, IdentityTable, CourseCatalogue],
    new: tuple[str, str, IdentityTable, CourseCatalogue],
) -> bool:
    return old[0] == new[0] and old[1] == new[1] and old[2] == new[2] and old[3] == new[3]
