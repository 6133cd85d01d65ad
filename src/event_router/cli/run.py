"""`event-router run`: sources, delivery and the HTTP server, until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer

from event_router.cli import app
from event_router.cli.banner import banner
from event_router.cli.environment import epilog
from event_router.cli.journal import journal_named
from event_router.cli.options import HOME, LMS_URL, settings
from event_router.cli.serving import serve_parts
from event_router.delivery.engine import Engine
from event_router.delivery.journal_readers import readers_for
from event_router.demo import SAMPLE_LOG, install_demo
from event_router.kafka.settings import KafkaSettings
from event_router.settings import Settings
from event_router.sources.bus import BusOptions
from event_router.sources.intake import Intake
from event_router.sources.kafka import KafkaOptions
from event_router.store import Store

log = logging.getLogger("event_router")


@app.command(epilog=epilog())
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
    kafka_bootstrap_servers: Annotated[
        str | None,
        typer.Option(
            "--kafka-bootstrap-servers",
            envvar="EVENT_ROUTER_KAFKA_BOOTSTRAP_SERVERS",
            help="Read the Open edX event bus on Kafka at HOST:PORT[,HOST:PORT…] (the LMS's "
            "EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS); topic, prefix and group as for Redis. SASL/SSL: "
            "EVENT_ROUTER_KAFKA_* (docs/configuration.md).",
        ),
    ] = None,
    schema_registry_url: Annotated[
        str | None,
        typer.Option(
            "--schema-registry-url",
            envvar="EVENT_ROUTER_SCHEMA_REGISTRY_URL",
            help="Confluent schema registry of the Kafka bus (the LMS's "
            "EVENT_BUS_KAFKA_SCHEMA_REGISTRY_URL): writer schemas by id; without it, the shipped "
            "schema.",
        ),
    ] = None,
    listen: Annotated[
        str | None,
        typer.Option(
            envvar="EVENT_ROUTER_LISTEN",
            help="HOST:PORT for ingest, the admin UI and API, metrics and health "
            "[default: 127.0.0.1:8400].",
        ),
    ] = None,
    ingest_open: Annotated[
        bool,
        typer.Option(
            "--ingest-open",
            help="Take POST /api/v1/events without a token (EVENT_ROUTER_INGEST_OPEN): anyone "
            "who can reach the port can add events. Default: refused unless "
            "EVENT_ROUTER_INGEST_TOKEN is set.",
        ),
    ] = False,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="See events flow: register the 'demo' consumer (xAPI statements into an "
            "archive under the home) and feed it a sample tracking log of 48 events.",
        ),
    ] = False,
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

    With EVENT_ROUTER_JOURNAL=redis://… (a Redis stream) or kafka://HOST:PORT[/prefix] (a Kafka
    topic, order kept per learner) any number of `run` processes share the work (control plane
    on PostgreSQL): see docs/scaling.md.
    """
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if log_level.lower() != "debug":  # a line per migration step and plugin on every start
        logging.getLogger("alembic").setLevel(logging.WARNING)
    config = settings(home, lms_url)
    if listen is not None:
        config.listen = listen
    config.ingest_open = config.ingest_open or ingest_open
    host, _, port = config.listen.rpartition(":")
    if not host or not port.isdigit():
        raise typer.BadParameter("expected HOST:PORT", param_hint="--listen")
    bus = BusOptions(redis_url, bus_topic, bus_prefix, bus_group) if redis_url else None
    kafka = kafka_options(
        kafka_bootstrap_servers, schema_registry_url, bus_topic, bus_prefix, bus_group
    )
    if config.journal_url:  # scale-out: the journal on Redis or Kafka, shared by N processes
        from event_router.cli.scaleout import check, serve_group

        if demo:
            raise typer.BadParameter(
                "the demo runs on the embedded journal: try it without EVENT_ROUTER_JOURNAL",
                param_hint="--demo",
            )
        check(config)
        config.resolved_secret(accept_new=accept_new_secret_key)  # checked before anything starts
        asyncio.run(serve_group(config, tracking_log or [], host, int(port), bus=bus, kafka=kafka))
        return
    config.resolved_secret(accept_new=accept_new_secret_key)  # checked before anything starts
    asyncio.run(serve(config, tracking_log or [], host, int(port), bus=bus, kafka=kafka, demo=demo))


def kafka_options(
    servers: str | None, registry: str | None, topic: str, prefix: str | None, group: str
) -> KafkaOptions | None:
    """The Kafka source's options when brokers are given (flags over EVENT_ROUTER_KAFKA_*)."""
    if not servers:
        return None
    overrides = {"kafka_bootstrap_servers": servers}
    if registry:
        overrides["schema_registry_url"] = registry
    try:
        settings = KafkaSettings(**overrides)  # type: ignore[arg-type]
        settings.consumer_config(group)  # refuse incomplete SASL settings now, not in the loop
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--kafka-bootstrap-servers") from None
    return KafkaOptions(settings, topic, prefix, group)


async def serve(
    config: Settings,
    logs: list[Path],
    host: str,
    port: int,
    *,
    bus: BusOptions | None = None,
    kafka: KafkaOptions | None = None,
    demo: bool = False,
) -> None:
    """Everything `run` does, as a coroutine (tests and benchmarks call it directly)."""
    secret_key = config.resolved_secret()  # makes the home (private) and checks the key
    journal = journal_named(config, existing=False)
    store = Store.from_settings(config)
    if demo:
        install_demo(store, config.home)
    typer.echo(banner(config, store, (host, port), logs, demo=demo), err=True)
    if demo:
        logs = [*logs, SAMPLE_LOG]
    engine = Engine(
        readers_for(journal),
        store,
        lms_url=config.lms_url,
        secret_key=secret_key,
        retention=config.retention_hours * 3600,
        translation_workers=config.translation_workers,
        drop_fields=config.drop_paths(),
    )
    intake = Intake(journal, engine.pool, lambda: engine.warm, engine.privacy, engine.made)
    await serve_parts(
        config, journal, store, engine, intake, logs, (host, port), bus=bus, kafka=kafka,
        banner=f"home {config.home}",
    )  # fmt: skip
