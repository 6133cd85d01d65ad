"""Kafka sink: each translated item becomes one record on a Kafka topic, as the event bus writes.

Records follow edx-event-bus-kafka's conventions (`event_router.kafka.framing`): a value framed
for the schema registry (magic byte, schema id, the Avro record of `event_router.bus.items`, the
same as the Redis bus sink's), the CloudEvents headers, and a framed Avro string key. The key is
the learner the item is about (xAPI actor, Caliper actor, tracking event's learner), so one
learner's items land in one partition and keep their order there; keys are hashed like the Java
client (murmur2) so every client agrees. Any service with edx-event-bus-kafka's consumer and the
signal declared reads them; the value subject is `<topic>-<event type>.CloudEvent`.

The consumer's `url` is `kafka://HOST:PORT[,HOST:PORT…]`; `kafka://` alone takes the router's
brokers (`EVENT_ROUTER_KAFKA_BOOTSTRAP_SERVERS`). Its `sink_options` (`KafkaOptions`) name the
topic (`topic`, `prefix`); `registry` overrides `EVENT_ROUTER_SCHEMA_REGISTRY_URL`,
`security_protocol` and `sasl_mechanism` the router's. Consumers stored when these rode in the
URL's query string (`kafka://broker:9092?topic=xapi&prefix=dev`) still work: they are moved into
`sink_options` when the consumer is read. SASL credentials belong in the consumer's secret fields
(`auth: basic`, `username`/`password`), not the URL. Records are produced by an idempotent
producer and a batch is delivered when the broker has every record; the message id (`ce_id`) is
derived from the statement id, so a batch re-sent after a failure carries the same ids and
readers can drop the copies.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from pydantic import BaseModel, ConfigDict, Field

from event_router.bus.items import TYPES, publication
from event_router.bus.wire import Metadata, encode_body, stream_name
from event_router.kafka.framing import (
    KEY_SCHEMA,
    encode_key,
    frame,
    headers,
    key_subject,
    schema_text,
    value_subject,
)
from event_router.kafka.registry import Registry, RegistryError
from event_router.kafka.settings import KafkaSettings
from event_router.routing.consumer import AuthKind, Consumer
from event_router.sinks.base import SinkError
from event_router.sinks.check import failed, result
from event_router.sinks.destinations import DestinationRefused, Guard
from event_router.sinks.outcome import Outcome, Verdict, failure
from event_router.sinks.registry import SinkType, register
from event_router.web.secrets_mask import mask_url

KAFKA_PARAMETERS = ("topic", "prefix", "registry", "security_protocol", "sasl_mechanism")


class KafkaOptions(BaseModel):
    """The topic the items go to (`<prefix>-<topic>`), and what this consumer sets differently
    from the router's Kafka settings."""

    model_config = ConfigDict(extra="forbid")

    topic: str | None = Field(default=None, min_length=1, description="Default: the protocol's.")
    prefix: str | None = Field(default=None, description="As the LMS's EVENT_BUS_TOPIC_PREFIX.")
    registry: str | None = Field(
        default=None, description="Schema registry URL; default EVENT_ROUTER_SCHEMA_REGISTRY_URL."
    )
    security_protocol: str | None = Field(
        default=None, description="Default: EVENT_ROUTER_KAFKA_SECURITY_PROTOCOL."
    )
    sasl_mechanism: str | None = Field(
        default=None, description="Default: EVENT_ROUTER_KAFKA_SASL_MECHANISM."
    )


_PAUSE = frozenset(
    {
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.CLUSTER_AUTHORIZATION_FAILED,
        KafkaError.SASL_AUTHENTICATION_FAILED,
        KafkaError._AUTHENTICATION,
        KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    }
)


class KafkaSink:
    """Produces one record per item to `<prefix>-<topic>` on the consumer's Kafka."""

    def __init__(self, consumer: Consumer) -> None:
        self.consumer = consumer
        self.event_type, default_topic = TYPES[consumer.protocol]
        settings, options = kafka_settings(consumer)
        self.topic = stream_name(options.topic or default_topic, options.prefix)
        if not settings.schema_registry_url:
            raise SinkError(
                f"consumer {consumer.name!r}: a Kafka sink needs a schema registry "
                "(EVENT_ROUTER_SCHEMA_REGISTRY_URL, or registry in the consumer's sink_options)"
            )
        self.registry = Registry(
            settings.schema_registry_url, auth=settings.registry_auth(), timeout=consumer.timeout
        )
        timeout_ms = int(consumer.timeout * 1000)
        try:
            self._producer = Producer(
                settings.producer_config(**{"message.timeout.ms": timeout_ms})
            )
        except (KafkaException, ValueError) as exc:
            raise SinkError(f"consumer {consumer.name!r}: {exc}") from None
        self._ids: tuple[int, int] | None = None
        self._destinations = [Guard(target) for target in targets(settings)]

    def records(self, items: Sequence[bytes], ids: tuple[int, int]) -> list[dict[str, Any]]:
        """The produce arguments for each item (ValueError if an item cannot be published)."""
        key_id, value_id = ids
        out = []
        for item in items:
            found = publication(self.event_type, item)
            body = encode_body(self.event_type, found.record)
            out.append(
                {
                    "value": frame(value_id, body),
                    "key": encode_key(key_id, found.learner),
                    "headers": headers(Metadata.new(self.event_type, found.key)),
                }
            )
        return out

    def schema_ids(self) -> tuple[int, int]:
        """(key schema id, value schema id), registered on first use (RegistryError if not)."""
        if self._ids is None:
            key_id = self.registry.register(key_subject(self.topic), KEY_SCHEMA)
            value_id = self.registry.register(
                value_subject(self.topic, self.event_type), schema_text(self.event_type)
            )
            self._ids = key_id, value_id
        return self._ids

    def partitions(self) -> int:
        """How many partitions the topic has (KafkaException if the brokers do not answer or
        the topic does not exist and is not created)."""
        metadata = self._producer.list_topics(self.topic, timeout=self.consumer.timeout)
        topic = metadata.topics.get(self.topic)
        if topic is None or topic.error is not None:
            raise KafkaException(topic.error if topic else KafkaError(KafkaError._UNKNOWN_TOPIC))
        return len(topic.partitions)

    async def send(self, items: Sequence[bytes]) -> Outcome:
        started = time.perf_counter()
        try:  # every broker and the registry, as the allow-list says (none: all allowed)
            for destination in self._destinations:
                await destination.check()
        except DestinationRefused as exc:
            return failure(exc, latency=time.perf_counter() - started, pause=True)
        try:
            ids = self._ids if self._ids is not None else await asyncio.to_thread(self.schema_ids)
        except RegistryError as exc:
            return failure(exc, latency=time.perf_counter() - started)
        try:
            records = self.records(items, ids)
        except (ValueError, KeyError, TypeError) as exc:
            return Outcome(Verdict.REJECTED, detail=f"not publishable: {exc}")
        if not records:
            return Outcome(Verdict.DELIVERED)
        errors: list[KafkaError] = []
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        left = len(records)
        lock = threading.Lock()  # deliveries are served by whichever thread polls

        def delivered(error: KafkaError | None, _: Message) -> None:
            nonlocal left
            with lock:
                if error is not None:
                    errors.append(error)
                left -= 1
                finished = left == 0
            if finished:
                # A late answer for a batch already given up on may find the loop closed.
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_settle, done)

        try:
            for record in records:
                await self._produce(record, delivered)
        except KafkaException as exc:
            return failure(exc, latency=time.perf_counter() - started)
        deadline = time.monotonic() + self.consumer.timeout + 5
        while not done.done() and time.monotonic() < deadline:
            await asyncio.to_thread(self._producer.poll, 0.05)
        latency = time.perf_counter() - started
        if not done.done():
            return Outcome(Verdict.RETRY, detail="Kafka did not confirm the batch", latency=latency)
        if not errors:
            return Outcome(Verdict.DELIVERED, latency=latency)
        return _classify(errors[0], latency)

    async def _produce(self, record: dict[str, Any], delivered: Any) -> None:
        """Queue one record; when librdkafka's queue is full, serve deliveries and try again."""
        while True:
            try:
                self._producer.produce(self.topic, on_delivery=delivered, **record)
                return
            except BufferError:
                await asyncio.to_thread(self._producer.poll, 0.1)

    async def close(self) -> None:
        await asyncio.to_thread(self._producer.flush, self.consumer.timeout)
        self.registry.close()


def targets(settings: KafkaSettings) -> list[str]:
    """Every address a Kafka sink reaches: each bootstrap broker, and the schema registry."""
    servers = settings.kafka_bootstrap_servers or ""
    brokers = [f"kafka://{b.strip()}" for b in servers.split(",") if b.strip()]
    return [*brokers, *([settings.schema_registry_url] if settings.schema_registry_url else [])]


def kafka_settings(consumer: Consumer) -> tuple[KafkaSettings, KafkaOptions]:
    """The router's Kafka settings with the consumer's url, options and credentials over them,
    and the consumer's options (topic, prefix)."""
    parts = urlsplit(consumer.url)
    if parts.scheme != "kafka":
        raise SinkError(f"consumer {consumer.name!r}: a Kafka sink needs a kafka:// url")
    unknown = sorted(dict(parse_qsl(parts.query)))
    if unknown:  # what `legacy_url` did not move: not one of ours
        raise SinkError(f"consumer {consumer.name!r}: unknown url parameter {unknown[0]!r}")
    options = KafkaOptions.model_validate(consumer.sink_options)
    overrides: dict[str, Any] = {}
    if parts.netloc:
        overrides["kafka_bootstrap_servers"] = parts.netloc
    if options.registry:
        overrides["schema_registry_url"] = options.registry
    if options.security_protocol:
        overrides["kafka_security_protocol"] = options.security_protocol
    if options.sasl_mechanism:
        overrides["kafka_sasl_mechanism"] = options.sasl_mechanism
    if consumer.auth is AuthKind.BASIC:
        overrides["kafka_sasl_username"] = consumer.username
        overrides["kafka_sasl_password"] = consumer.password
    try:
        settings = KafkaSettings(**overrides)
        settings.client_config()  # brokers and SASL settings complete
    except ValueError as exc:
        raise SinkError(f"consumer {consumer.name!r}: {exc}") from None
    return settings, options


def legacy_url(url: str) -> tuple[str, dict[str, Any]]:
    """For consumers stored when the options rode in the URL: the URL without them, and them
    (an empty value is the default; an unknown parameter stays, for the sink to refuse)."""
    parts = urlsplit(url)
    moved: dict[str, Any] = {}
    kept = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in KAFKA_PARAMETERS:
            moved[key] = value or None
        else:
            kept.append((key, value))
    if not moved:
        return url, {}
    return urlunsplit(parts._replace(query=urlencode(kept))), moved


async def check_kafka(consumer: Consumer) -> dict[str, Any]:
    """The topic's metadata from the brokers, and its schemas registered (as the first send
    would), with the consumer's credentials: nothing is written to the topic."""
    try:
        sink = KafkaSink(consumer)
    except SinkError as exc:
        return result("nothing sent", verdict=str(exc))
    request = f"metadata of {sink.topic}, schemas in {mask_url(sink.registry.url)}"
    started = time.perf_counter()
    try:
        partitions = await asyncio.to_thread(sink.partitions)
        await asyncio.to_thread(sink.schema_ids)
    except Exception as exc:  # librdkafka or registry errors: report whichever it is
        return failed(consumer, request, exc, started)
    finally:
        await sink.close()
    latency = round((time.perf_counter() - started) * 1000, 1)
    verdict = (
        f"Kafka answered; the topic {sink.topic} has {partitions} partition(s); "
        "the registry holds its schemas"
    )
    return result(request, ok=True, latency_ms=latency, verdict=verdict)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _classify(error: KafkaError, latency: float) -> Outcome:
    """A failed record's error: auth and permission pause, an oversized record is rejected
    (the engine splits the batch to find it), anything else is retried."""
    detail = f"Kafka: {error.name()}: {error.str()}"
    if error.code() in _PAUSE:
        return Outcome(Verdict.PAUSE, detail=detail, latency=latency)
    if error.code() == KafkaError.MSG_SIZE_TOO_LARGE:
        return Outcome(Verdict.REJECTED, detail=detail, latency=latency)
    return Outcome(Verdict.RETRY, detail=detail, latency=latency)


register(
    SinkType(
        "kafka",
        KafkaSink,
        "a Kafka topic in the Open edX event-bus format (schema registry framing)",
        options=KafkaOptions,
        check=check_kafka,
        legacy_url=legacy_url,
    )
)
