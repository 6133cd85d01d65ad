"""Bus sink: each translated item becomes one entry on a Redis stream of the consumer's own topic.

Entries follow the Open edX event-bus conventions (edx-event-bus-redis's field order, UTF-8
metadata, schemaless Avro body; see docs/integration.md), so any service with an openedx-events
consumer, or just redis + fastavro, can read learning traces without an LRS. The event type
and the Avro record depend on the consumer's protocol (`event_router.bus.items`; the Kafka sink
publishes the same records).

The consumer's `url` is the Redis URL; its `sink_options` (`BusOptions`) name the stream: `topic`
(default: the protocol name, `xapi`, `caliper` or `tracking`) and `prefix`, and `maxlen`
(approximate MAXLEN, default 10000 like the LMS producer; 0 for none). Consumers stored when these
rode in the URL's query string (`redis://redis:6379/0?topic=xapi&prefix=dev`) still work: they
are moved into `sink_options` when the consumer is read. Credentials
belong in the consumer's secret fields, not the URL (which is shown back): `auth: basic` with
`username`/`password` for a Redis ACL user, `auth: bearer` with `token` for a `requirepass`.
A batch is written in one MULTI/EXEC, so it lands whole or not at all. The message `id` is
derived from the statement id, so a batch re-sent after a timeout carries the same ids and
readers can drop the copies.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import suppress
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis.asyncio as redis
from pydantic import BaseModel, ConfigDict, Field
from redis.exceptions import (
    AuthenticationError,
    NoPermissionError,
    RedisError,
    ResponseError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from event_router.bus.items import TYPES, publication
from event_router.bus.wire import Metadata, encode_body, entry, stream_name
from event_router.routing.consumer import AuthKind, Consumer
from event_router.sinks.base import SinkError
from event_router.sinks.check import failed, result
from event_router.sinks.destinations import DestinationRefused, Guard
from event_router.sinks.outcome import Outcome, Verdict, failure
from event_router.sinks.registry import SinkType, register

_OUR_PARAMETERS = ("topic", "prefix", "maxlen")


class BusOptions(BaseModel):
    """Where on the consumer's Redis the items go: the stream `<prefix>-<topic>`."""

    model_config = ConfigDict(extra="forbid")

    topic: str | None = Field(default=None, min_length=1, description="Default: the protocol's.")
    prefix: str | None = Field(default=None, description="As the LMS's EVENT_BUS_TOPIC_PREFIX.")
    maxlen: int = Field(default=10_000, ge=0, description="Approximate MAXLEN; 0: none.")


class BusSink:
    """XADDs one entry per item to `<prefix>-<topic>` on the consumer's Redis."""

    def __init__(self, consumer: Consumer) -> None:
        self.consumer = consumer
        self._destination = Guard(consumer.url)
        self.event_type, default_topic = TYPES[consumer.protocol]
        url, left = split_url(consumer)
        if "maxlen" in left:  # one `legacy_url` could not move: not a number
            raise SinkError(f"consumer {consumer.name!r}: maxlen must be an integer")
        options = BusOptions.model_validate(consumer.sink_options)
        self.stream = stream_name(options.topic or default_topic, options.prefix)
        self.maxlen = options.maxlen or None
        credentials: dict[str, Any] = {}
        if consumer.auth is AuthKind.BASIC:
            credentials = {"username": consumer.username, "password": consumer.password}
        elif consumer.auth is AuthKind.BEARER:
            credentials = {"password": consumer.token}
        try:
            self._client = redis.from_url(
                url,
                socket_timeout=consumer.timeout,
                socket_connect_timeout=consumer.timeout,
                **credentials,
            )
        except ValueError as exc:
            raise SinkError(f"consumer {consumer.name!r}: bad Redis URL ({exc})") from None

    def fields(self, item: bytes) -> dict[bytes, bytes]:
        """The stream entry for one item (ValueError if the item cannot be one)."""
        found = publication(self.event_type, item)
        body = encode_body(self.event_type, found.record)
        return entry(Metadata.new(self.event_type, found.key), body)

    async def send(self, items: Sequence[bytes]) -> Outcome:
        try:
            entries = [self.fields(item) for item in items]
        except (ValueError, KeyError, TypeError) as exc:
            return Outcome(Verdict.REJECTED, detail=f"not publishable: {exc}")
        started = time.perf_counter()
        try:
            await self._destination.check()
        except DestinationRefused as exc:
            return failure(exc, latency=time.perf_counter() - started, pause=True)
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                for fields in entries:
                    data: dict[Any, Any] = fields
                    pipe.xadd(self.stream, data, maxlen=self.maxlen, approximate=True)
                await pipe.execute()
        except (AuthenticationError, NoPermissionError) as exc:
            return failure(exc, latency=time.perf_counter() - started, pause=True)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            return failure(exc, latency=time.perf_counter() - started)
        except ResponseError as exc:  # WRONGTYPE, OOM, read-only replica...: an operator's job
            return failure(exc, latency=time.perf_counter() - started, pause=True)
        except RedisError as exc:
            return failure(exc, latency=time.perf_counter() - started)
        return Outcome(Verdict.DELIVERED, latency=time.perf_counter() - started)

    async def close(self) -> None:
        await self._client.aclose()


def split_url(consumer: Consumer) -> tuple[str, dict[str, str]]:
    """The Redis URL without our query parameters, and those parameters."""
    parts = urlsplit(consumer.url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise SinkError(
            f"consumer {consumer.name!r}: a bus sink needs a redis://, rediss:// or unix:// url"
        )
    query = parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in query if k in _OUR_PARAMETERS}
    rest = urlencode([(k, v) for k, v in query if k not in _OUR_PARAMETERS])
    return urlunsplit(parts._replace(query=rest)), ours


def legacy_url(url: str) -> tuple[str, dict[str, Any]]:
    """For consumers stored when the stream's options rode in the URL: the URL without them, and
    them. A `maxlen` that is not a number stays, for the sink to refuse, and so does an empty
    `topic` or `prefix`, for a new configuration to be refused (the sink takes the default)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    moved: dict[str, Any] = {}
    kept = []
    for key, value in query:
        if key == "maxlen":
            with suppress(ValueError):
                moved[key] = int(value)
                continue
        elif key in _OUR_PARAMETERS and value.strip():
            moved[key] = value
            continue
        kept.append((key, value))
    if not moved:
        return url, {}
    return urlunsplit(parts._replace(query=urlencode(kept))), moved


async def check_bus(consumer: Consumer) -> dict[str, Any]:
    """PING and XLEN of the consumer's stream, with its credentials: services read that
    stream, so nothing is written to it."""
    try:
        sink = BusSink(consumer)
    except SinkError as exc:
        return result("nothing sent", verdict=str(exc))
    request = f"PING, XLEN {sink.stream}"
    started = time.perf_counter()
    try:
        client = sink._client  # the sink's own connection settings and credentials
        await client.ping()
        length = await client.xlen(sink.stream)
    except (RedisError, OSError) as exc:
        return failed(consumer, request, exc, started)
    finally:
        await sink.close()
    latency = round((time.perf_counter() - started) * 1000, 1)
    verdict = f"Redis answered; the stream {sink.stream} holds {length} entries"
    return result(request, ok=True, latency_ms=latency, verdict=verdict)


register(
    SinkType(
        "bus",
        BusSink,
        "a Redis stream in the Open edX event-bus format",
        options=BusOptions,
        check=check_bus,
        legacy_url=legacy_url,
    )
)
