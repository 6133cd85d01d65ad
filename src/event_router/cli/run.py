"""`event-router run`: sources, delivery and the HTTP server, until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer

from event_router.cli import app
from event_router.cli.options import HOME, LMS_URL, settings
from event_router.cli.serving import serve_parts
from event_router.delivery.engine import Engine
from event_router.journal import SqliteJournal
from event_router.settings import Settings
from event_router.sources.bus import BusOptions
from event_router.sources.intake import Intake
from event_router.store import Store

log = logging.getLogger("event_router")


@app.command()
def run(
    tracking_log: Annotated[
        list[Path] | None,
        typer.Option(
            "--tracking-log",
            help="Tracking log to follow live (tail -F: rotation, truncation, not yet created). "
            "Repeatable. .gz files are read once.",
        ),
    ] = None,
    redis_url: Annotated[
        str | None,
        typer.Option(
            "--redis-url",
            envvar="EVENT_ROUTER_REDIS_URL",
            help="Read the Open edX event bus (Redis Streams) at this URL, e.g. "
            "redis://localhost:6379/0 (the LMS's EVENT_BUS_REDIS_CONNECTION_URL).",
        ),
    ] = None,
    bus_topic: Annotated[
        str,
        typer.Option(
            "--bus-topic",
            envvar="EVENT_ROUTER_BUS_TOPIC",
            help="Bus topic the LMS publishes tracking events to, without prefix.",
        ),
    ] = "analytics",
    bus_prefix: Annotated[
        str | None,
        typer.Option(
            "--bus-prefix",
            envvar="EVENT_ROUTER_BUS_PREFIX",
            help="The LMS's EVENT_BUS_TOPIC_PREFIX (Tutor: dev); the stream is PREFIX-TOPIC.",
        ),
    ] = None,
    bus_group: Annotated[
        str,
        typer.Option(
            "--bus-group",
            envvar="EVENT_ROUTER_BUS_GROUP",
            help="Our own consumer group (never the group of Aspects or event-routing-backends).",
        ),
    ] = "event-router",
    listen: Annotated[
        str | None,
        typer.Option(
            help="HOST:PORT for ingest, the admin UI and API, metrics and health "
            "[default: 127.0.0.1:8400]."
        ),
    ] = None,
    home: Annotated[Path | None, HOME] = None,
    lms_url: Annotated[str | None, LMS_URL] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    accept_new_secret_key: Annotated[
        bool,
        typer.Option(
            help="Start although the secret key differs from the one this home was used with, "
            "and record it: anonymous ids not imported from the LMS change (docs/configuration.md)."
        ),
    ] = False,
) -> None:
    """Run the router: ingest events, keep them in the journal, deliver them to every consumer.

    Stops gracefully on SIGINT/SIGTERM: sources stop reading, batches in flight are settled,
    then the process exits. Nothing accepted is lost if it is killed instead.

    With EVENT_ROUTER_JOURNAL=redis://… the journal is a Redis stream and any number of `run`
    processes share the work (control plane on PostgreSQL): see docs/scaling.md.
    """
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = settings(home, lms_url)
    if listen is not None:
        config.listen = listen
    host, _, port = config.listen.rpartition(":")
    if not host or not port.isdigit():
        raise typer.BadParameter("expected HOST:PORT", param_hint="--listen")
    bus = BusOptions(redis_url, bus_topic, bus_prefix, bus_group) if redis_url else None
    if config.journal_url:  # scale-out: the journal on Redis, shared by N processes
        from event_router.cli.scaleout import check, serve_group

        check(config)
        config.resolved_secret(accept_new=accept_new_secret_key)  # checked before anything starts
        asyncio.run(serve_group(config, tracking_log or [], host, int(port), bus=bus))
        return
    config.resolved_secret(accept_new=accept_new_secret_key)  # checked before anything starts
    asyncio.run(serve(config, tracking_log or [], host, int(port), bus=bus))


async def serve(
    config: Settings, logs: list[Path], host: str, port: int, *, bus: BusOptions | None = None
) -> None:
    """Everything `run` does, as a coroutine (tests and benchmarks call it directly)."""
    secret_key = config.resolved_secret()  # makes the home (private) and checks the key
    journal = SqliteJournal(config.home / "journal.db", synchronous=config.journal_sync)
    store = Store.from_settings(config)
    engine = Engine(
        journal,
        store,
        lms_url=config.lms_url,
        secret_key=secret_key,
        retention=config.retention_hours * 3600,
        translation_workers=config.translation_workers,
    )
    intake = Intake(journal, engine.pool, lambda: engine.warm)
    await serve_parts(
        config, journal, store, engine, intake, logs, (host, port), bus=bus,
        banner=f"home {config.home}",
    )  # fmt: skip
