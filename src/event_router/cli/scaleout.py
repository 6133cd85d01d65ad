"""`event-router run` in scale-out mode: the journal on Redis, N processes sharing the work.

Chosen by `EVENT_ROUTER_JOURNAL=redis://…` (see docs/scaling.md). The sources, the web server and
the signal handling are those of the single-process mode; the journal is a `RedisJournal` and
delivery a `GroupEngine`, whose deliveries are members of each consumer's consumer group.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from pathlib import Path

import typer
import uvicorn

from event_router.cli.run import _Server, _until_stop
from event_router.delivery.group_engine import GroupEngine
from event_router.journal import JournalFull
from event_router.journal.redis import RedisJournal
from event_router.settings import Settings
from event_router.sources.bus import BusOptions, BusSource
from event_router.sources.intake import Intake
from event_router.sources.tracking_log import TrackingLogSource
from event_router.store import Store, StoreError
from event_router.web.app import create_app

log = logging.getLogger("event_router")


def check(config: Settings) -> None:
    """Refuse what the processes could not share: a control plane or a secret key in this home."""
    url = config.database_url or ""
    if not url or url.startswith("sqlite"):
        raise typer.BadParameter(
            "a Redis journal (EVENT_ROUTER_JOURNAL) means several router processes, which must "
            "share their control plane: set EVENT_ROUTER_DATABASE_URL=postgresql://…",
            param_hint="EVENT_ROUTER_DATABASE_URL",
        )
    if not config.secret_key:
        raise typer.BadParameter(
            "a Redis journal (EVENT_ROUTER_JOURNAL) means several router processes, which must "
            "derive the same anonymous ids: set the same EVENT_ROUTER_SECRET_KEY for all of them",
            param_hint="EVENT_ROUTER_SECRET_KEY",
        )


def member_name(config: Settings) -> str:
    return config.member or f"{socket.gethostname()}-{os.getpid()}"


async def serve_group(
    config: Settings, logs: list[Path], host: str, port: int, *, bus: BusOptions | None = None
) -> None:
    """Everything `run` does, on a Redis journal with group deliveries."""
    check(config)
    assert config.journal_url is not None
    config.home.mkdir(parents=True, exist_ok=True)
    try:
        journal = RedisJournal(config.journal_url, config.journal_prefix)
    except JournalFull as exc:
        raise typer.BadParameter(str(exc), param_hint="EVENT_ROUTER_JOURNAL") from None
    try:
        store = Store.from_settings(config)
    except StoreError as exc:
        journal.close()
        raise typer.BadParameter(str(exc), param_hint="EVENT_ROUTER_DATABASE_URL") from None
    engine = GroupEngine(
        journal,
        store,
        member=member_name(config),
        lms_url=config.lms_url,
        secret_key=config.resolved_secret(),
        claim_idle=config.claim_idle,
        retention=config.retention_hours * 3600,
        translation_workers=config.translation_workers,
    )
    web = create_app(
        journal,
        engine,
        ingest_token=config.ingest_token,
        max_body_bytes=config.max_body_bytes,
        store=store,
        secret_key=engine.secret_key,
        lms_url=config.lms_url,
    )
    if config.ingest_token is None:
        log.warning("EVENT_ROUTER_INGEST_TOKEN is not set: POST /api/v1/events is open")
    server = _Server(uvicorn.Config(web, host=host, port=port, log_level="warning", lifespan="off"))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    sources_stop = asyncio.Event()
    intake = Intake(journal, engine.pool)  # a Redis journal keeps no translations ahead
    sources = [TrackingLogSource(path, journal, intake=intake) for path in logs]
    tasks = [asyncio.create_task(s.run(sources_stop), name=f"source:{s.path}") for s in sources]
    if bus is not None:
        reader = BusSource(journal, bus.url, bus.topic, prefix=bus.prefix, group=bus.group)
        tasks.append(asyncio.create_task(reader.run(sources_stop), name=reader.source_id))
        web.state.source_counts[reader.source_id] = reader.counts
    for source in sources:
        web.state.source_counts[source.source_id] = source.counts
    server_task = asyncio.create_task(server.serve(), name="http")
    engine_stop = asyncio.Event()
    engine_task = asyncio.create_task(engine.run(engine_stop), name="engine")
    web.state.ready = True
    log.info(
        "event router on http://%s:%d, member %s of journal %s (prefix %s)",
        host,
        port,
        engine.member,
        journal.stream,
        config.journal_prefix,
    )
    try:
        await _until_stop(stop, [server_task, engine_task, *tasks])
    finally:
        web.state.ready = False
        sources_stop.set()
        server.should_exit = True
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
