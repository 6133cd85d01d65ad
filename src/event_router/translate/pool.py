"""Worker processes for the CPU-heavy part of every command (translating, normalising lines).

One pool serves `run` (sources and delivery share it), `backfill` and `transform`: what each
worker does differs (its initializer and tasks), how workers live does not. A worker ignores
Ctrl-C (the parent decides how to stop) and ends when its parent dies, even by SIGKILL: a pool
worker otherwise outlives a killed parent forever (it holds its own end of the task queue, so it
never sees the queue close) and keeps the parent's output pipes open.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from event_router.lifecycle import die_with

_T = TypeVar("_T")


class WorkerPool:
    """`workers` processes, each set up once by `initializer(*initargs)`.

    `fork` starts them as copies of this process (fast, and they inherit what is already
    loaded: only before any thread or connection exists); otherwise they are spawned afresh.
    `wait` returns only once every worker is up, so a fork happens now and not later."""

    def __init__(
        self,
        workers: int,
        initializer: Callable[..., None],
        initargs: tuple[Any, ...] = (),
        *,
        fork: bool = False,
        wait: bool = False,
    ) -> None:
        self.workers = workers
        method = "fork" if fork and "fork" in multiprocessing.get_all_start_methods() else "spawn"
        self.executor = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context(method),
            initializer=_boot,
            initargs=(os.getpid(), initializer, initargs),
        )
        started = [self.executor.submit(_started) for _ in range(workers)]
        if wait:
            for future in started:
                future.result()

    @property
    def pids(self) -> list[int]:
        """The workers' process ids (for tests and diagnostics)."""
        return list(getattr(self.executor, "_processes", None) or {})

    async def map(self, fn: Callable[..., _T], calls: list[tuple[Any, ...]]) -> list[_T] | None:
        """`fn(*args)` for each of `calls` in the workers, results in order; None if a worker
        died (the pool is then unusable: make a new one)."""
        loop = asyncio.get_running_loop()
        try:
            futures = (loop.run_in_executor(self.executor, fn, *args) for args in calls)
            return await asyncio.gather(*futures)
        except BrokenProcessPool:
            return None

    def imap(self, fn: Callable[[Any], _T], items: Iterable[Any], ahead: int = 2) -> Iterator[_T]:
        """`fn(item)` for each item in the workers, in order, with at most `ahead` tasks per
        worker submitted before their results are taken (an input is read as it is needed)."""
        pending: deque[Future[_T]] = deque()
        for item in items:
            pending.append(self.executor.submit(fn, item))
            if len(pending) >= self.workers * ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def close(self, *, wait: bool = False) -> None:
        """Stop the workers; queued work is dropped (work under way finishes unless `wait` is
        False and the process exits first)."""
        self.executor.shutdown(wait=wait, cancel_futures=True)


def _boot(parent: int, initializer: Callable[..., None], initargs: tuple[Any, ...]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    die_with(parent)  # a router killed -9 takes its workers (and the resource tracker) along
    initializer(*initargs)


def _started() -> None:
    """A task that does nothing: submitting it makes the pool start a worker."""
