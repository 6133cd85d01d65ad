"""Consume the LMS's tracking events from the Open edX event bus on Kafka into the journal.

edx-event-bus-kafka writes `TRACKING_EVENT_EMITTED` to `<prefix>-<topic>` (see
`event_router.kafka.framing`). The router reads it as a member of **its own** consumer group (a
group splits the partitions between its members: joining Aspects' group would take events away
from it), from the oldest record when the group is new.

Nothing is lost or ingested twice: each batch is appended to the journal together with, per
partition, the next offset to read (the source position `kafka:<topic>:<group>:<partition>`) and
the message ids (`ce_id`); only then are the offsets committed to Kafka. On (re)assignment a
partition resumes at the later of Kafka's committed offset and the journal's position, so a crash
between the journal commit and the Kafka commit re-reads nothing; a producer's duplicate (same
`ce_id`) is dropped.

Records whose writer schema the registry names (by the id in their header) are read through it,
resolved against the schema the router ships; without a registry, or when the registry does not
know the id, the shipped schema is tried. Records of other event types are skipped and counted;
records that cannot be decoded are copied, with the reason in `x-router-*` headers, to the topic
`<topic>.<group>.rejected` before their offsets are committed, and counted and logged with their
partition, offset and message id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from event_router.bus.tracking import Decoded, from_record
from event_router.bus.wire import TRACKING_EVENT_TYPE, Metadata, WireError, stream_name
from event_router.journal import Journal, JournalFull
from event_router.kafka.framing import decode_value, read_headers, unframe
from event_router.kafka.registry import Registry, RegistryError
from event_router.kafka.settings import KafkaSettings
from event_router.sources.seen import SeenKeys, count_rejected, skip_type

log = logging.getLogger(__name__)


class SchemaUnavailable(RuntimeError):
    """The registry is unreachable and the shipped schema does not read the record: try later."""


@dataclass(frozen=True, slots=True)
class KafkaOptions:
    """Where `event-router run` reads the bus on Kafka: `--kafka-bootstrap-servers`, ..."""

    settings: KafkaSettings
    topic: str = "analytics"
    prefix: str | None = None
    group: str = "event-router"


@dataclass(slots=True)
class _Batch:
    """One consumed batch, sorted out: what goes into the journal, what is kept aside."""

    decoded: list[tuple[int, Decoded]] = field(default_factory=list)  # (partition, event)
    rejected: list[tuple[Message, str]] = field(default_factory=list)
    next_offsets: dict[int, int] = field(default_factory=dict)


class KafkaSource:
    """One topic (`<prefix>-<topic>`) read by our consumer group until `stop` is set."""

    def __init__(
        self,
        journal: Journal,
        settings: KafkaSettings,
        topic: str,
        *,
        prefix: str | None = None,
        group: str = "event-router",
        batch: int = 500,
        poll: float = 1.0,
        keep_seen: int = 200_000,
    ) -> None:
        self.journal = journal
        self.settings = settings
        self.topic = stream_name(topic, prefix)
        self.group = group
        self.source_id = f"kafka:{self.topic}:{group}"
        self.rejected_topic = f"{self.topic}.{group}.rejected"
        self.batch = batch
        self.poll = poll
        self.keep_seen = keep_seen
        self.counts: Counter[str] = Counter()
        self.registry: Registry | None = None
        if settings.schema_registry_url:
            self.registry = Registry(settings.schema_registry_url, auth=settings.registry_auth())
        self.assigned: set[int] = set()  # partitions this member reads now
        self._producer: Producer | None = None
        self._seen = SeenKeys(journal, self.source_id, keep_seen)

    def position_id(self, partition: int) -> str:
        return f"{self.source_id}:{partition}"

    async def run(self, stop: asyncio.Event) -> None:
        delay = 0.5
        while not stop.is_set():
            consumer: Consumer | None = None
            try:
                consumer = Consumer(self.settings.consumer_config(self.group))
                await self._consume(consumer, stop)
                delay = 0.5
            except (KafkaException, SchemaUnavailable) as exc:
                self.counts["kafka_errors"] += 1
                log.warning("%s: %s; starting over in %.1f s", self.topic, exc, delay)
                await _sleep(stop, delay)
                delay = min(delay * 2, 30.0)
            except Exception:  # the journal or a bug: say so, keep the other sources running
                self.counts["errors"] += 1
                log.exception("%s: Kafka source failed; starting over in %.1f s", self.topic, delay)
                await _sleep(stop, delay)
                delay = min(delay * 2, 30.0)
            finally:
                self.assigned = set()
                if consumer is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.to_thread(consumer.close)
        if self._producer is not None:
            await asyncio.to_thread(self._producer.flush, 10)
        if self.registry is not None:
            self.registry.close()

    async def _consume(self, consumer: Consumer, stop: asyncio.Event) -> None:
        consumer.subscribe(
            [self.topic],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )
        log.info("reading Kafka topic %s as group %s", self.topic, self.group)
        while not stop.is_set():
            messages = await asyncio.to_thread(consumer.consume, self.batch, self.poll)
            records = [m for m in messages if not self._failed(m)]
            if records:
                batch = await asyncio.to_thread(self._sort, records)
                if batch.rejected:  # kept before the journal moves the position past them
                    await asyncio.to_thread(self._keep_aside, batch.rejected)
                if not await self._commit(batch, stop):
                    return
                offsets = [TopicPartition(self.topic, p, o) for p, o in batch.next_offsets.items()]
                try:
                    await asyncio.to_thread(consumer.commit, offsets=offsets, asynchronous=False)
                except KafkaException as exc:  # a rebalance: the journal has the positions
                    self.counts["commit_errors"] += 1
                    log.warning("%s: offsets not committed (%s)", self.topic, exc)
                for message, reason in batch.rejected:
                    self._rejected(message, reason)
            await self._seen.prune(self.counts["accepted"])

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Start each partition at the later of Kafka's commit and the journal's position."""
        committed = consumer.committed(partitions, timeout=30)
        for partition, kafka in zip(partitions, committed, strict=True):
            saved = self.journal.position(self.position_id(partition.partition))
            if saved is None or not saved.isdigit():
                continue  # Kafka's commit, or the oldest record for a new group
            # Kafka's offset is negative when the group has none (-1001): ours wins then too.
            if int(saved) > kafka.offset:  # the journal has what Kafka's commit missed (a crash)
                partition.offset = int(saved)
        consumer.assign(partitions)
        self.assigned = {p.partition for p in partitions}
        self.counts["assignments"] += 1
        log.info(
            "%s: assigned partitions %s",
            self.topic,
            ", ".join(f"{p.partition}@{p.offset}" for p in partitions) or "none",
        )

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Nothing is in flight here: a batch is journaled and committed before the next poll,
        the only place a rebalance can happen."""
        self.assigned -= {p.partition for p in partitions}

    def _failed(self, message: Message) -> bool:
        """Count and log a consume error (librdkafka reconnects by itself); raise if fatal."""
        error = message.error()
        if error is None:
            return False
        if error.code() == KafkaError._PARTITION_EOF:
            return True
        self.counts["kafka_errors"] += 1
        if error.fatal():
            raise KafkaException(error)
        if self.counts["kafka_errors"] <= 10 or self.counts["kafka_errors"] % 100 == 0:
            log.warning("%s: %s", self.topic, error.str())
        return True

    # -- one batch --

    def _sort(self, messages: list[Message]) -> _Batch:
        """Decode each record (in a thread: the registry may be asked for a schema)."""
        batch = _Batch()
        for message in messages:
            partition, offset = message.partition() or 0, message.offset() or 0
            batch.next_offsets[partition] = offset + 1
            entry = f"{partition}-{offset}"
            try:
                result = self._decode(entry, message)
            except WireError as exc:
                batch.rejected.append((message, str(exc)))
                continue
            if isinstance(result, Metadata):
                skip_type(self.counts, log, self.topic, result.event_type, entry)
            else:
                batch.decoded.append((partition, result))
        return batch

    def _decode(self, entry: str, message: Message) -> Decoded | Metadata:
        try:
            metadata = read_headers(_headers(message))
        except WireError:
            raise
        except Exception as exc:  # whatever the input, one record never stops the source
            raise WireError(f"cannot read headers: {exc!r}") from None
        if metadata.event_type != TRACKING_EVENT_TYPE:
            return metadata
        schema_id, body = unframe(message.value())
        record = self._read(schema_id, body)
        return from_record(entry, metadata, record)

    def _read(self, schema_id: int, body: bytes) -> dict[str, Any]:
        """The record, with the registry's writer schema; the shipped schema as a fallback."""
        if self.registry is None:
            return decode_value(TRACKING_EVENT_TYPE, body, None)
        try:
            writer = self.registry.schema(schema_id)
        except RegistryError as exc:
            try:
                record = decode_value(TRACKING_EVENT_TYPE, body, None)
            except WireError:
                if exc.missing:
                    raise WireError(f"schema id {schema_id} is unknown to the registry") from None
                raise SchemaUnavailable(str(exc)) from None
            self.counts["shipped_schema"] += 1
            return record
        return decode_value(TRACKING_EVENT_TYPE, body, writer)

    async def _commit(self, batch: _Batch, stop: asyncio.Event) -> bool:
        """Journal the batch's new events and every partition's next offset; False if stopped.

        One write per partition (each with its own position); when the journal refuses some of
        them, what it took is known by its message ids on the next attempt."""
        ours: set[str] = set()  # keys this call has committed (not duplicates on a retry)
        while True:
            keys = [d.key for _, d in batch.decoded]
            known = self.journal.seen(self.source_id, keys) if keys else set()
            fresh: dict[int, list[Decoded]] = defaultdict(list)
            taken: set[str] = set()
            duplicates = 0
            for partition, item in batch.decoded:
                if item.key in known or item.key in taken:
                    duplicates += item.key not in ours
                    continue
                taken.add(item.key)
                fresh[partition].append(item)
            writes = {
                partition: self.journal.submit(
                    [d.body for d in fresh[partition]],
                    (self.position_id(partition), str(offset)),
                    None,
                    [d.event for d in fresh[partition]],
                    (self.source_id, [d.key for d in fresh[partition]]),
                )
                for partition, offset in batch.next_offsets.items()
            }
            results = await asyncio.gather(
                *(asyncio.wrap_future(f) for f in writes.values()), return_exceptions=True
            )
            errors = []
            for partition, result in zip(writes, results, strict=True):
                if isinstance(result, BaseException):
                    errors.append(result)
                else:
                    self.counts["accepted"] += len(fresh[partition])
                    ours.update(d.key for d in fresh[partition])
            if not errors:
                self.counts["duplicates"] += duplicates
                return True
            if not all(isinstance(e, JournalFull) for e in errors):
                raise next(e for e in errors if not isinstance(e, JournalFull))
            # Offsets stay uncommitted: Kafka keeps the records until the journal can.
            self.counts["journal_full"] += 1
            log.error("%s: journal refuses events (%s); retrying in 5 s", self.topic, errors[0])
            if stop.is_set():
                return False
            await _sleep(stop, 5)

    def _keep_aside(self, rejected: list[tuple[Message, str]]) -> None:
        """Copy bad records to the rejected topic and wait until Kafka has them (raises if not:
        the batch's offsets are then not committed and it is read again)."""
        producer = self._ensure_rejected_topic()
        failures: list[str] = []

        def delivered(error: KafkaError | None, _: Message) -> None:
            if error is not None:
                failures.append(error.str())

        for message, reason in rejected:
            extra = [
                ("x-router-reason", reason.encode()),
                ("x-router-topic", self.topic.encode()),
                ("x-router-partition", str(message.partition()).encode()),
                ("x-router-offset", str(message.offset()).encode()),
            ]
            producer.produce(
                self.rejected_topic,
                value=message.value(),
                key=message.key(),
                headers=[*_headers(message), *extra],
                on_delivery=delivered,
            )
        left = producer.flush(30)
        if left or failures:
            raise KafkaException(
                KafkaError(KafkaError._MSG_TIMED_OUT, f"rejected records not kept: {failures}")
            )

    def _ensure_rejected_topic(self) -> Producer:
        if self._producer is None:
            admin = AdminClient(self.settings.client_config())
            futures = admin.create_topics([NewTopic(self.rejected_topic, 1)], request_timeout=30)
            try:
                futures[self.rejected_topic].result(30)
                log.info("created topic %s for records the router cannot read", self.rejected_topic)
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise
            self._producer = Producer(self.settings.producer_config())
        return self._producer

    # -- counting and logging --

    def _rejected(self, message: Message, reason: str) -> None:
        if count_rejected(self.counts):
            ids = [v for k, v in _headers(message) if k == "ce_id" and v]
            message_id = ids[0].decode("utf-8", "replace") if ids else "-"
            log.warning(
                "%s: record at partition %s offset %s (message id %s) rejected: %s; copied to %s",
                self.topic,
                message.partition(),
                message.offset(),
                message_id,
                reason,
                self.rejected_topic,
            )


def _headers(message: Message) -> list[tuple[str, bytes | None]]:
    """A consumed record's headers as (name, bytes) pairs (librdkafka gives bytes)."""
    raw = message.headers() or []
    pairs = raw.items() if isinstance(raw, dict) else raw
    return [(k, v.encode() if isinstance(v, str) else v) for k, v in pairs]


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
