"""`event-router run` in scale-out mode: the journal on Redis or Kafka, N processes sharing it.

Chosen by `EVENT_ROUTER_JOURNAL=redis://…` or `kafka://…` (see docs/scaling.md). The sources, the
web server and the signal handling are those of the single-process mode; the journal is a
`RedisJournal` (delivery reading through `GroupReaders`) or a `KafkaJournal` (`PartitionReaders`):
either way one `Engine`, and this process a member of each consumer's consumer group.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import replace
from pathlib import Path

import typer

from event_router.cli.journal import journal_named
from event_router.cli.serving import serve_parts
from event_router.delivery.engine import Engine
from event_router.delivery.journal_readers import readers_for
from event_router.journal.redis import RedisJournal
from event_router.settings import Settings
from event_router.sources.bus import BusOptions
from event_router.sources.intake import Intake
from event_router.sources.kafka import KafkaOptions
from event_router.store import Store, StoreError

log = logging.getLogger("event_router")


def check(config: Settings) -> None:
    """Refuse what the processes could not share: a control plane or a secret key in this home."""
    url = config.database_url or ""
    if not url or url.startswith("sqlite"):
        raise typer.BadParameter(
            "a Redis or Kafka journal (EVENT_ROUTER_JOURNAL) means several router processes, "
            "which must "
            "share their control plane: set EVENT_ROUTER_DATABASE_URL=postgresql://…",
            param_hint="EVENT_ROUTER_DATABASE_URL",
        )
    if not config.secret_key:
        raise typer.BadParameter(
            "a Redis or Kafka journal (EVENT_ROUTER_JOURNAL) means several router processes, "
            "which must "
            "derive the same anonymous ids: set the same EVENT_ROUTER_SECRET_KEY for all of them",
            param_hint="EVENT_ROUTER_SECRET_KEY",
        )


def member_name(config: Settings) -> str:
    return config.member or f"{socket.gethostname()}-{os.getpid()}"


async def serve_group(
    config: Settings,
    logs: list[Path],
    host: str,
    port: int,
    *,
    bus: BusOptions | None = None,
    kafka: KafkaOptions | None = None,
) -> None:
    """Everything `run` does, on a Redis or Kafka journal with group deliveries."""
    check(config)
    config.home.mkdir(parents=True, exist_ok=True)
    try:
        store = Store.from_settings(config)  # first: it migrates the control plane
    except StoreError as exc:
        raise typer.BadParameter(str(exc), param_hint="EVENT_ROUTER_DATABASE_URL") from None
    member = member_name(config)
    try:
        journal = journal_named(config)
    except BaseException:  # unreachable, a bad URL: said as every command says it
        store.close()
        raise
    readers = readers_for(journal, member=member, claim_idle=config.claim_idle)
    engine = Engine(
        readers,
        store,
        lms_url=config.lms_url,
        secret_key=config.resolved_secret(),
        retention=config.retention_hours * 3600,
        translation_workers=config.translation_workers,
        drop_fields=config.drop_paths(),
        process=member,
    )
    if bus is not None:  # several processes of one machine read the bus side by side
        bus = replace(bus, consumer=member)
    # Nothing is translated at ingest: entries are read back from Redis or Kafka, by any process.
    intake = Intake(journal, engine.pool, privacy=engine.privacy)
    banner = readers.label
    if isinstance(journal, RedisJournal):
        banner += f", prefix {config.journal_prefix}"
    await serve_parts(
        config, journal, store, engine, intake, logs, (host, port), bus=bus, banner=banner,
        kafka=kafka,
    )  # fmt: skip
