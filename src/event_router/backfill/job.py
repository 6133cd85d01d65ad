"""Set up and run one backfill: check the request, start the pool, show progress, stop cleanly.

The worker pool is forked first, before this process opens a database or starts a thread, so
workers inherit nothing that cannot cross a fork; each worker then builds its own translation
options from the plan (the home's secret and the store's identity and course tables).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from event_router.backfill import progress as progress_file
from event_router.backfill import worker
from event_router.backfill.checkpoints import Busy, Checkpoints
from event_router.backfill.inputs import Input, InputError, expand
from event_router.backfill.pacing import TokenBucket
from event_router.backfill.report import Report
from event_router.backfill.runner import Runner
from event_router.backfill.target import DrySink, Target
from event_router.plugins.loader import missing_hooks
from event_router.privacy.screen import Screen
from event_router.routing.consumer import Consumer
from event_router.settings import Settings
from event_router.sinks.base import Sink, SinkError, build_sink
from event_router.store import Store, StoreError, UnknownConsumer
from event_router.translate.pool import WorkerPool

DEFAULT_BATCH = 1000
DEFAULT_IN_FLIGHT = 4


class JobError(Exception):
    """The backfill cannot start; `code` is the exit status."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Job:
    patterns: list[str]
    consumers: list[str]
    since: datetime | None = None
    until: datetime | None = None
    workers: int | None = None  # None: one per CPU; 0: translate in this process
    batch_size: int | None = None  # None: the consumer's, at least DEFAULT_BATCH
    in_flight: int | None = None  # None: the consumer's, at least DEFAULT_IN_FLIGHT
    restart: bool = False
    dry_run: bool = False  # read, translate and count; send nothing, write no checkpoint
    rate: float | None = None  # events a second at most (a token bucket); None: no limit


def run_job(settings: Settings, job: Job, console: Console, *, progress: bool) -> Report:
    """Run the backfill to its end (or until SIGINT/SIGTERM) and return its report."""
    try:
        inputs = expand(job.patterns)
    except InputError as exc:
        raise JobError(str(exc)) from None
    consumers, plan = _plan(settings, job)
    workers = job.workers if job.workers is not None else (os.cpu_count() or 1)
    # Forked now, before this process opens a database or starts a thread.
    pool = WorkerPool(workers, worker.start, (plan,), fork=True, wait=True) if workers else None
    try:
        try:
            checkpoints = Checkpoints(settings.home, read_only=job.dry_run)
        except Busy as exc:
            raise JobError(str(exc), 1) from None
        try:
            if job.restart:
                checkpoints.forget([c.name for c in consumers], [i.name for i in inputs])
            with Store.from_settings(settings) as store:
                if not job.dry_run:  # who re-sent history, to whom, from how many files
                    names = ", ".join(c.name for c in consumers)
                    store.audit.record("backfill", names, files=len(inputs), restart=job.restart)
                return asyncio.run(
                    _run(
                        consumers,
                        inputs,
                        plan,
                        store,
                        checkpoints,
                        pool,
                        workers,
                        console,
                        progress,
                        job,
                        settings.home,
                    )
                )
        finally:
            checkpoints.close()
    finally:
        if pool is not None:
            pool.close(wait=True)


def _plan(settings: Settings, job: Job) -> tuple[list[Consumer], worker.Plan]:
    if not job.consumers:
        raise JobError("name at least one --consumer")
    if job.since and job.until and job.since >= job.until:
        raise JobError("--since must be before --until")
    if job.rate is not None and job.rate <= 0:
        raise JobError("--rate must be more than 0 events a second")
    try:
        with Store.from_settings(settings) as store:
            known = {c.name: c for c in store.consumers.list()}
            identities, catalogue = store.identities.table(), store.courses.catalogue()
            retired = store.retired.keys()
    except StoreError as exc:
        raise JobError(str(exc), 1) from None
    missing = [name for name in job.consumers if name not in known]
    if missing:
        names = ", ".join(sorted(known)) or "none registered"
        raise JobError(f"{UnknownConsumer(missing[0])} (known consumers: {names})")
    consumers = [_tuned(known[name], job) for name in dict.fromkeys(job.consumers)]
    for consumer in consumers:  # its events would all be refused: say so before reading any
        if absent := missing_hooks(consumer.hooks):
            raise JobError(f"{consumer.name}: hook(s) not installed: {', '.join(absent)}")
    plan = worker.Plan(
        consumers=consumers,
        lms_url=settings.lms_url,
        secret_key=settings.resolved_secret(),
        identities=identities,
        catalogue=catalogue,
        since=job.since,
        until=job.until,
        screen=Screen(settings.resolved_secret(), settings.drop_paths(), retired),
    )
    return consumers, plan


def _tuned(consumer: Consumer, job: Job) -> Consumer:
    """The consumer with backfill-sized batches and concurrency (a history needs no linger)."""
    batch = job.batch_size or max(consumer.batch_size, DEFAULT_BATCH)
    in_flight = job.in_flight or max(consumer.max_in_flight, DEFAULT_IN_FLIGHT)
    return consumer.model_copy(
        update={"batch_size": min(batch, 10_000), "max_in_flight": min(in_flight, 64)}
    )


async def _run(
    consumers: list[Consumer],
    inputs: list[Input],
    plan: worker.Plan,
    store: Store,
    checkpoints: Checkpoints,
    pool: WorkerPool | None,
    workers: int,
    console: Console,
    progress: bool,
    job: Job,
    home: Path,
) -> Report:
    stop = asyncio.Event()
    _handle_signals(stop, console)
    sinks: list[Sink] = []
    try:
        for consumer in consumers:
            if job.dry_run:
                sinks.append(DrySink())
                continue
            try:
                sinks.append(build_sink(consumer, secret_key=plan.secret_key))
            except SinkError as exc:
                raise JobError(str(exc)) from None
        targets = [
            Target(
                consumer,
                sink,
                store,
                checkpoints,
                stop,
                batch_size=consumer.batch_size,
                in_flight=consumer.max_in_flight,
            )
            for consumer, sink in zip(consumers, sinks, strict=True)
        ]
        translator = None if pool is not None else worker.Translator(plan)
        bucket = TokenBucket(job.rate) if job.rate else None
        runner = Runner(
            inputs,
            targets,
            checkpoints,
            pool=pool.executor if pool is not None else None,
            translator=translator,
            workers=workers,
            bucket=bucket,
        )
        runner.report.dry_run, runner.report.rate_limit = job.dry_run, job.rate
        work = asyncio.create_task(
            runner.run(stop) if not progress else _with_progress(runner, stop, console)
        )
        await progress_file.record_while(home, runner, work)  # what the admin UI shows
        return await work
    finally:
        for sink in sinks:
            with contextlib.suppress(Exception):
                await sink.close()


def _handle_signals(stop: asyncio.Event, console: Console) -> None:
    loop = asyncio.get_running_loop()

    def interrupt() -> None:
        if stop.is_set():
            console.print("interrupted twice: exiting now (the checkpoints may lag a little)")
            os._exit(130)
        console.print("stopping: settling batches in flight (interrupt again to quit now)")
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, interrupt)


async def _with_progress(runner: Runner, stop: asyncio.Event, console: Console) -> Report:
    columns = (
        TextColumn("[bold]backfill"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[events]} events"),
        TextColumn("{task.fields[rate]}/s"),
        TextColumn("{task.fields[sent_label]} {task.fields[delivered]}"),
        TextColumn("{task.fields[errors]}"),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, refresh_per_second=4) as bar:
        task = bar.add_task(
            "backfill", total=runner.bytes_total or None, events="0", rate="0", delivered="0",
            errors="errors 0", sent_label="would send" if runner.report.dry_run else "delivered",
        )  # fmt: skip
        samples: deque[tuple[float, int]] = deque(maxlen=20)

        def update() -> None:
            now, read = time.monotonic(), runner.report.read
            samples.append((now, read))
            first_at, first_read = samples[0]
            rate = (read - first_read) / (now - first_at) if now > first_at else 0.0
            errors = f"errors {runner.errors:,}" + (" (retrying)" if runner.retrying else "")
            bar.update(
                task,
                completed=runner.bytes_done,
                events=f"{read:,}",
                rate=f"{rate:,.0f}",
                delivered=f"{runner.delivered:,}",
                errors=errors,
            )

        async def refresh() -> None:
            while True:
                update()
                await asyncio.sleep(0.25)

        ticker = asyncio.create_task(refresh())
        try:
            report = await runner.run(stop)
        finally:
            ticker.cancel()
        update()
        return report
