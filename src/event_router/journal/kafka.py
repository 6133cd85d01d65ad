"""The journal as a Kafka topic, shared by several router processes (scale-out on disk).

`EVENT_ROUTER_JOURNAL=kafka://HOST:PORT[,HOST:PORT…][/prefix]`: events go to the topic
`<prefix>.journal` (default prefix `event-router`), created with `EVENT_ROUTER_JOURNAL_PARTITIONS`
partitions and Kafka retention set from `EVENT_ROUTER_RETENTION_HOURS`. Each record is keyed by
`EVENT_ROUTER_JOURNAL_KEY`: the learner (default: one learner's events stay in one partition, so
in order), the course, or nothing (spread evenly, no order). Security settings are the Kafka
source's (`EVENT_ROUTER_KAFKA_SECURITY_PROTOCOL`, SASL, CA: `kafka.settings`).

Appends go through one writer thread and an idempotent producer with `acks=all`: an event is
accepted (HTTP 202, a source's position moves on) only once every in-sync replica has it. The
source position and idempotency keys are then written to the control plane
(`journal.kafka_state`): a crash in between journals a source's last events again, which only
re-sends statements with the same ids. Each consumer reads through its own Kafka consumer group
(`delivery.partition_reader`); there are no cursors here.

An entry's seq is `offset << 10 | partition` (unique, ordered within a partition), so at most
1,024 partitions.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from event_router.events import NormaliseError, TrackingEvent, parse_json
from event_router.journal.base import Appends, batches, event_names
from event_router.journal.entry import Entry, JournalFull
from event_router.journal.kafka_state import JournalState
from event_router.kafka.settings import KafkaSettings

log = logging.getLogger(__name__)

KEYS = ("learner", "course", "none")
MAX_PARTITIONS = 1024
_PARTITION_BITS = 10
_MAX_WRITES = 1024  # writes merged into one produce-and-flush round


def seq_of(partition: int, offset: int) -> int:
    return (offset << _PARTITION_BITS) | partition


def parse_url(url: str) -> tuple[str, str]:
    """(bootstrap servers, prefix) of `kafka://HOST:PORT[,HOST:PORT…][/prefix]`."""
    if not url.startswith("kafka://"):
        raise ValueError(f"not a kafka:// URL: {url!r}")
    servers, _, prefix = url[len("kafka://") :].partition("/")
    if not servers:
        raise ValueError("kafka:// URL names no broker: kafka://HOST:PORT[/prefix]")
    return servers, prefix.strip("/") or "event-router"


def to_entry(message: Message) -> Entry:
    """A journal record as the `Entry` the encoder and the sender work with."""
    headers: Any = message.headers() or []
    name: Any = next((v for k, v in headers if k == "n"), b"") or b""
    _, stamp = message.timestamp()
    value: Any = message.value() or b""
    return Entry(
        seq_of(message.partition() or 0, message.offset() or 0),
        stamp / 1000 if stamp > 0 else time.time(),
        None,
        value,
        name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name),
    )


@dataclass(slots=True)
class _Write:
    bodies: Sequence[bytes]
    names: list[str]
    events: Sequence[TrackingEvent] | None
    position: tuple[str, str] | None
    seen: tuple[str, Sequence[str]] | None
    future: Future[tuple[int, int]]


class KafkaJournal(Appends):
    """The journal topic at `url`; appends are acknowledged by Kafka before they are accepted."""

    kind = "kafka"
    redaction = "kept until Kafka's retention"

    def __init__(
        self,
        url: str,
        state: JournalState,
        settings: KafkaSettings | None = None,
        *,
        partitions: int = 12,
        key: str = "learner",
        retention: float = 7 * 86_400,
        node: str | None = None,
    ) -> None:
        servers, self.prefix = parse_url(url)
        if key not in KEYS:
            raise ValueError(f"journal key must be one of {', '.join(KEYS)}")
        if not 1 <= partitions <= MAX_PARTITIONS:
            raise ValueError(f"journal partitions must be 1 to {MAX_PARTITIONS}")
        self.url = url
        self.state = state
        base = settings or KafkaSettings()
        self.settings = base.model_copy(update={"kafka_bootstrap_servers": servers})
        self.topic = f"{self.prefix}.journal"
        self.key = key
        self.node = node or socket.gethostname()
        self._positions = f"position:{self.node}"
        try:
            self.partitions = self._ensure_topic(partitions, retention)
            self._producer = Producer(self.settings.producer_config(**{"linger.ms": 2}))
            self._meta = Consumer(self.settings.client_config(**{"group.id": f"{self.prefix}."}))
            self._head = self.refresh()
        except KafkaException as exc:
            raise JournalFull(f"journal at {servers} is not reachable: {exc}") from exc
        self._queue: queue.SimpleQueue[_Write | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_loop, name="journal-writer", daemon=True)
        self._writer.start()

    def _ensure_topic(self, partitions: int, retention: float) -> int:
        """Create the topic if it does not exist; how many partitions it has."""
        admin = AdminClient(self.settings.client_config())
        config = {"retention.ms": str(int(retention * 1000))} if retention > 0 else {}
        topic = NewTopic(self.topic, partitions, config=config)
        try:
            admin.create_topics([topic], request_timeout=30)[self.topic].result(30)
            log.info("created journal topic %s with %d partitions", self.topic, partitions)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
        deadline = time.monotonic() + 30
        while True:
            found = admin.list_topics(self.topic, timeout=10).topics.get(self.topic)
            if found is not None and found.error is None and found.partitions:
                return len(found.partitions)
            if time.monotonic() > deadline:
                raise KafkaException(KafkaError(KafkaError._TIMED_OUT, "journal topic missing"))
            time.sleep(0.1)

    def consumer_config(self, group: str, **extra: Any) -> dict[str, Any]:
        return self.settings.consumer_config(group, **extra)

    # -- writing --

    @property
    def head(self) -> int:
        """How many events the topic ever took (its high watermarks' sum, as last read)."""
        return self._head

    def watermarks(self) -> list[tuple[int, int]]:
        """(low, high) offsets per partition."""
        return [
            self._meta.get_watermark_offsets(TopicPartition(self.topic, p), timeout=10)
            for p in range(self.partitions)
        ]

    def refresh(self) -> int:
        self._head = max(getattr(self, "_head", 0), sum(h for _, h in self.watermarks()))
        return self._head

    def submit(
        self,
        bodies: Sequence[bytes],
        position: tuple[str, str] | None = None,
        cursors: dict[str, int] | None = None,
        events: Sequence[TrackingEvent] | None = None,
        seen: tuple[str, Sequence[str]] | None = None,
        *,
        names: Sequence[str] | None = None,
    ) -> Future[tuple[int, int]]:
        """Queue events, a source position and idempotency keys; the future resolves to the
        (first, last) seq once Kafka acknowledged every event, or raises `JournalFull`."""
        if cursors:
            raise ValueError("a Kafka journal has no cursors: consumers read through groups")
        if names is None:
            names = event_names(bodies, events)
        future: Future[tuple[int, int]] = Future()
        self._queue.put(_Write(bodies, list(names), events, position, seen, future))
        return future

    def _write_loop(self) -> None:
        for batch in batches(self._queue, _MAX_WRITES):
            try:
                self._commit(batch)
            except Exception as exc:  # a bug or the control plane: refuse, loudly
                log.exception("journal write failed")
                for write in batch:
                    if not write.future.done():
                        write.future.set_exception(JournalFull(f"journal write failed: {exc}"))

    def _key(self, write: _Write, index: int) -> bytes | None:
        if self.key == "none":
            return None
        try:
            event = write.events[index] if write.events is not None else None
            event = event or parse_json(write.bodies[index])
        except NormaliseError:
            return None
        value = event.user_key if self.key == "learner" else event.course_id
        return value.encode() if value is not None else None

    def _commit(self, batch: list[_Write]) -> None:
        """Produce every event of the batch, wait for Kafka's acknowledgements, then record
        the positions and keys; each write's future gets its seqs or the error."""
        seqs: list[list[int]] = [[] for _ in batch]
        errors: list[str] = []

        def delivered(error: KafkaError | None, message: Message, slot: list[int]) -> None:
            if error is not None:
                errors.append(error.str())
            else:
                slot.append(seq_of(message.partition() or 0, message.offset() or 0))

        appended = 0
        for write, slot in zip(batch, seqs, strict=True):
            for index, (body, name) in enumerate(zip(write.bodies, write.names, strict=True)):
                self._produce(body, name, self._key(write, index), slot, delivered)
            appended += len(write.bodies)
        left = self._producer.flush(60) if appended else 0
        if left or errors:
            reason = errors[0] if errors else f"{left} events not acknowledged in time"
            error = JournalFull(f"journal write failed: {reason}")
            for write in batch:
                write.future.set_exception(error)
            return
        rows: list[tuple[str, str, str]] = []
        for write in batch:
            if write.position is not None:
                rows.append((self._positions, *write.position))
            if write.seen is not None:
                rows.extend((f"seen:{write.seen[0]}", key, "") for key in write.seen[1])
        self.state.put(rows)
        self._head += appended
        for write, slot in zip(batch, seqs, strict=True):
            write.future.set_result((min(slot), max(slot)) if slot else (0, 0))
        if appended:
            self._notify()

    def _produce(
        self, body: bytes, name: str, key: bytes | None, slot: list[int], delivered: Any
    ) -> None:
        while True:
            try:
                self._producer.produce(
                    self.topic,
                    value=body,
                    key=key,
                    headers=[("n", name.encode())],
                    on_delivery=lambda e, m: delivered(e, m, slot),
                )
                return
            except BufferError:  # librdkafka's queue is full: let it send some first
                self._producer.poll(0.05)

    # -- reading --

    def position(self, source: str) -> str | None:
        return self.state.get(self._positions, source)

    def positions(self) -> dict[str, str]:
        return {name: value for name, (value, _) in self.state.all(self._positions).items()}

    def seen(self, scope: str, keys: Sequence[str]) -> set[str]:
        return self.state.present(f"seen:{scope}", keys)

    def forget_seen(self, scope: str, keep: int) -> int:
        return self.state.keep_newest(f"seen:{scope}", keep)

    def size(self) -> tuple[int, int]:
        """(retained events, 0: Kafka does not say how many bytes a topic takes here)."""
        return sum(max(0, h - lo) for lo, h in self.watermarks()), 0

    def redact(self, names_learner: Callable[[bytes], bool]) -> int:
        """A Kafka topic cannot be rewritten: a forgotten learner's events already journaled stay
        until Kafka's retention removes them (docs/scaling.md says so); nothing is changed."""
        del names_learner
        return 0

    def close(self) -> None:
        """Stop the writer, flush the producer, and close the state with the journal (each
        journal is given a state of its own: `journal.opening`)."""
        self._queue.put(None)
        self._writer.join(timeout=70)
        with contextlib.suppress(Exception):
            self._producer.flush(10)
        with contextlib.suppress(Exception):
            self._meta.close()
        self.state.close()
