"""One router process at work: sources, the delivery engine and the web server, until a signal.

`event-router run` builds a journal, a store and the engine (reading the journal through
`CursorReaders` on SQLite, `GroupReaders` on Redis in scale-out mode) and hands them here; what
runs around them and how they stop is the same in both modes: sources stop reading first, the web
server stops, then deliveries settle their batches in flight, and only then are the journal and
the store closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import typer
import uvicorn

from event_router.delivery.engine import Engine
from event_router.journal import Journal
from event_router.settings import Settings
from event_router.sources.bus import BusOptions, BusSource
from event_router.sources.intake import Intake
from event_router.sources.kafka import KafkaOptions, KafkaSource
from event_router.sources.tracking_log import TrackingLogSource
from event_router.store import Store
from event_router.web.app import create_app
from event_router.web.proxies import TrustedProxies

log = logging.getLogger("event_router")


async def serve_parts(
    config: Settings,
    journal: Journal,
    store: Store,
    engine: Engine,
    intake: Intake,
    logs: list[Path],
    address: tuple[str, int],
    *,
    bus: BusOptions | None,
    banner: str,
    kafka: KafkaOptions | None = None,
) -> None:
    """Run everything until SIGINT/SIGTERM (or until a part fails), then stop in order."""
    host, port = address
    web = create_app(
        journal,
        engine,
        ingest_token=config.ingest_token,
        max_body_bytes=config.max_body_bytes,
        store=store,
        secret_key=engine.secret_key,
        lms_url=config.lms_url,
        intake=intake,
        session_idle=timedelta(minutes=config.session_idle_minutes),
        ingest_open=config.ingest_open,
        home=config.home,
    )
    if config.ingest_token is None and config.ingest_open:
        log.warning(
            "INGEST IS OPEN (--ingest-open): anyone who can reach %s:%d can add events to "
            "POST /api/v1/events without a token; set EVENT_ROUTER_INGEST_TOKEN to close it",
            host, port,
        )  # fmt: skip
    elif config.ingest_token is None:
        log.warning(
            "EVENT_ROUTER_INGEST_TOKEN is not set: POST /api/v1/events refuses events (401); "
            "set a token, or start with --ingest-open"
        )
    server = _Server(
        uvicorn.Config(
            TrustedProxies(web, config.trusted_proxies),
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            proxy_headers=False,  # TrustedProxies does it, with CIDRs (docs/web.md)
        )
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    sources_stop = asyncio.Event()
    sources = [TrackingLogSource(path, journal, intake=intake) for path in logs]
    tasks = [asyncio.create_task(s.run(sources_stop), name=f"source:{s.path}") for s in sources]
    for source in sources:
        web.state.source_counts[source.source_id] = source.counts
    if bus is not None:
        reader = BusSource(
            journal,
            bus.url,
            bus.topic,
            prefix=bus.prefix,
            group=bus.group,
            consumer=bus.consumer,
            intake=intake,
        )
        tasks.append(asyncio.create_task(reader.run(sources_stop), name=reader.source_id))
        web.state.source_counts[reader.source_id] = reader.counts
    if kafka is not None:
        kafka_reader = KafkaSource(
            journal, kafka.settings, kafka.topic, prefix=kafka.prefix, group=kafka.group
        )
        tasks.append(
            asyncio.create_task(kafka_reader.run(sources_stop), name=kafka_reader.source_id)
        )
        web.state.source_counts[kafka_reader.source_id] = kafka_reader.counts
    server_task = asyncio.create_task(server.serve(), name="http")
    engine_stop = asyncio.Event()
    engine_task = asyncio.create_task(engine.run(engine_stop), name="engine")
    web.state.ready = True
    gc.freeze()  # start-up objects (modules, tables) stay out of every later collection
    log.info("event router on http://%s:%d (%s, %d tracking log(s))", host, port, banner, len(logs))
    try:
        await _until_stop(stop, [server_task, engine_task], tasks)
    finally:
        web.state.ready = False
        sources_stop.set()
        server.should_exit = True
        engine.end_streams()  # open event streams end, or the server would wait for them
        for task in tasks:
            with contextlib.suppress(Exception):
                await task
        with contextlib.suppress(Exception):
            await server_task
        engine_stop.set()
        with contextlib.suppress(Exception):
            await engine_task
        journal.close()
        store.close()
        log.info("event router stopped")


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: `serve_parts` owns SIGINT/SIGTERM for all."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _until_stop(
    stop: asyncio.Event, parts: list[asyncio.Task[None]], sources: list[asyncio.Task[None]]
) -> None:
    """Wait for a signal, or for a part to fail (then say why and stop). A source may finish
    (a `.gz` log is read whole, then done) while the others, ingest and delivery go on; the
    server or the engine ending on its own is a failure."""
    waiter = asyncio.create_task(stop.wait())
    running = {waiter, *parts, *sources}
    try:
        while True:
            done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            if waiter in done:
                return
            for task in done:
                error = None if task.cancelled() else task.exception()
                if task in sources and error is None:
                    if not task.cancelled():
                        log.info("%s: read to the end", task.get_name())
                    continue
                log.error("%s %s", task.get_name(), f"failed: {error!r}" if error else "ended")
                raise typer.Exit(1)
    finally:
        waiter.cancel()
