"""Reading the Kafka journal: this process as a member of a consumer's Kafka consumer group.

Each consumer is a consumer group on the journal topic (`<prefix>.<consumer>`); the router
processes running it share its partitions through Kafka's own rebalancing. A mark names a
partition, the epoch of its assignment and the last offset read; acknowledging a settled batch
commits, per partition, the offset after it. A partition revoked (another member takes it, or
this one was dropped) bumps its epoch: what was read from it is forgotten and its marks are
skipped, as its new owner reads it again from the last commit (same ids: the endpoint stores
each once).

Order per key: a key's events are in one partition, in order. The delivery sends several batches
at once and retries a failed one while later ones go on; so a partition is **gated**: once a
read took entries from it, nothing more is read from it until that read is acknowledged (its
batch settled). A later batch of a partition therefore never reaches the endpoint before an
earlier one; batches of different partitions travel side by side. Each read takes from one
partition (the one waiting longest), so a busy partition fills whole batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from event_router.delivery.reader import Read
from event_router.journal import JournalUnavailable
from event_router.journal.kafka import KafkaJournal, seq_of, to_entry

log = logging.getLogger(__name__)
PAUSE_AT = 5_000  # records buffered for one partition before its fetching pauses
STEP = 0.05  # seconds of one poll while a read waits
_GONE = {
    KafkaError.REBALANCE_IN_PROGRESS,
    KafkaError.ILLEGAL_GENERATION,
    KafkaError.UNKNOWN_MEMBER_ID,
    KafkaError._NO_OFFSET,
}


class PartitionReader:
    """This process's share of one consumer's group on the journal topic."""

    def __init__(
        self,
        journal: KafkaJournal,
        group: str,
        created: float,
        *,
        rewind_to: float | None = None,
        session_timeout: float | None = None,
    ) -> None:
        self.journal = journal
        self.topic = journal.topic
        self.group = group
        self.created = created
        self.rewind_to = rewind_to  # applied to the partitions of the first assignment
        self.position = 0
        self.assigned: set[int] = set()
        self.lag = 0  # records behind on the partitions assigned here (librdkafka's figures)
        extra: dict[str, Any] = {"enable.partition.eof": False}
        if session_timeout is not None:
            ms = int(session_timeout * 1000)
            extra.update({"session.timeout.ms": ms, "heartbeat.interval.ms": max(100, ms // 6)})
        self._config = journal.consumer_config(group, **extra)
        self._consumer: Consumer | None = None
        self._lock = threading.Lock()  # rebalance callbacks run in the consuming thread
        self._buffers: dict[int, deque[Message]] = {}
        self._epochs: dict[int, int] = {}
        self._held: set[int] = set()  # partitions with a read not yet acknowledged
        self._paused: set[int] = set()
        self._committed: dict[int, int] = {}
        self._bodies: dict[int, bytes] = {}  # of records read, not acknowledged (dead letters)
        self._reads: dict[tuple[int, int, int], list[int]] = {}  # mark -> its seqs

    # -- the Reader interface --

    async def read(self, limit: int, wait: float) -> Read | None:
        """Buffered records of a partition that is not gated, else what Kafka brings within
        `wait`; polled in short steps, so a partition released by an acknowledgement is read at
        once rather than after the wait."""
        deadline = time.monotonic() + wait
        while (found := self._take(limit)) is None:
            step = min(STEP, max(0.0, deadline - time.monotonic()))
            self._buffer(await self._consume(limit, step))
            if time.monotonic() >= deadline:
                return self._take(limit)
        return found

    async def ack(self, marks: list[Any]) -> None:
        offsets: dict[int, int] = {}
        settled: list[int] = []
        with self._lock:
            for partition, epoch, last in marks:
                if self._epochs.get(partition) == epoch and partition in self.assigned:
                    offsets[partition] = max(offsets.get(partition, 0), last + 1)
                    settled.append(partition)
        if offsets:
            commit = [TopicPartition(self.topic, p, o) for p, o in offsets.items()]
            try:
                await asyncio.to_thread(self._client().commit, offsets=commit, asynchronous=False)
            except KafkaException as exc:
                if exc.args[0].code() not in _GONE:
                    raise JournalUnavailable(str(exc)) from exc
                log.info("%s: offsets not committed (%s): re-read by their owner", self.group, exc)
        with self._lock:
            for partition, offset in offsets.items():
                self._committed[partition] = max(self._committed.get(partition, 0), offset)
                self.position = max(self.position, seq_of(partition, offset - 1))
            self._held.difference_update(settled)
        for mark in marks:
            for seq in self._reads.pop(tuple(mark), ()):
                self._bodies.pop(seq, None)

    def body(self, seq: int) -> bytes | None:
        return self._bodies.get(seq)

    async def close(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(consumer.close)
        self._buffers.clear()
        self._bodies.clear()
        self._reads.clear()

    # -- reading --

    def _client(self) -> Consumer:
        if self._consumer is None:
            self._consumer = Consumer(self._config)
            self._consumer.subscribe(
                [self.topic], on_assign=self._assign, on_revoke=self._revoke, on_lost=self._revoke
            )
        return self._consumer

    async def _consume(self, limit: int, wait: float) -> list[Message]:
        consumer = self._client()
        try:
            messages = await asyncio.to_thread(consumer.consume, max(limit, 500), max(0.0, wait))
        except KafkaException as exc:
            raise JournalUnavailable(str(exc)) from exc
        good = []
        for message in messages:
            error = message.error()
            if error is None:
                good.append(message)
            elif error.fatal():
                raise JournalUnavailable(error.str())
            elif error.code() != KafkaError._PARTITION_EOF:
                log.warning("%s: %s", self.group, error.str())
        return good

    def _buffer(self, messages: list[Message]) -> None:
        with self._lock:
            for message in messages:
                partition = message.partition() or 0
                if partition in self.assigned:  # not one revoked while this batch came in
                    self._buffers.setdefault(partition, deque()).append(message)
            full = [
                p for p, b in self._buffers.items() if len(b) >= PAUSE_AT and p not in self._paused
            ]
            self._paused.update(full)
        if full:
            self._client().pause([TopicPartition(self.topic, p) for p in full])

    def _take(self, limit: int) -> Read | None:
        """Up to `limit` buffered records of one partition that is not gated."""
        with self._lock:
            ready = [p for p, b in self._buffers.items() if b and p not in self._held]
            if not ready:
                return None
            partition = min(ready, key=lambda p: self._buffers[p][0].timestamp()[1])
            buffer = self._buffers[partition]
            taken = [buffer.popleft() for _ in range(min(limit, len(buffer)))]
            self._held.add(partition)
            epoch = self._epochs.get(partition, 0)
            resume = partition in self._paused and len(buffer) < PAUSE_AT // 2
            if resume:
                self._paused.discard(partition)
        if resume:
            self._client().resume([TopicPartition(self.topic, partition)])
        entries = [to_entry(m) for m in taken]
        for entry in entries:
            self._bodies[entry.seq] = entry.body
        last = taken[-1].offset() or 0
        self._update_lag(partition, last)
        mark = (partition, epoch, last)
        self._reads[mark] = [e.seq for e in entries]
        return Read(entries, mark)

    def _update_lag(self, partition: int, last: int) -> None:
        with contextlib.suppress(KafkaException, RuntimeError):
            _, high = self._client().get_watermark_offsets(
                TopicPartition(self.topic, partition), cached=True
            )
            if high >= 0:
                self.lag = max(0, high - last - 1)

    # -- rebalancing (in the consuming thread) --

    def _assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Start each partition at its committed offset; a new group at the consumer's
        creation time; a rewound one at the time asked for (committed at once)."""
        moment = self.rewind_to
        self.rewind_to = None
        committed = consumer.committed(partitions, timeout=30)
        wanted = [p for p, c in zip(partitions, committed, strict=True) if c.offset < 0]
        if moment is not None:
            wanted = list(partitions)
        start = moment if moment is not None else self.created
        if wanted:
            # The ends first: a record appended after them is after the moment too.
            ends = {
                p.partition: consumer.get_watermark_offsets(
                    TopicPartition(self.topic, p.partition), timeout=30
                )[1]
                for p in wanted
            }
            times = [TopicPartition(self.topic, p.partition, int(start * 1000)) for p in wanted]
            found = consumer.offsets_for_times(times, timeout=30)
            by_partition = {tp.partition: tp.offset for tp in found}
            for partition in partitions:
                if partition.partition in by_partition:
                    offset = by_partition[partition.partition]
                    # -1: nothing at or after that moment yet: start at the end as it was.
                    partition.offset = offset if offset >= 0 else ends[partition.partition]
            if moment is not None:
                resolved = [p for p in partitions if p.offset >= 0]
                if resolved:
                    consumer.commit(offsets=resolved, asynchronous=False)
                log.info("%s: rewound to %s", self.group, time.ctime(moment))
        with self._lock:
            for partition in partitions:
                self._epochs[partition.partition] = self._epochs.get(partition.partition, 0) + 1
                self._buffers.pop(partition.partition, None)
                self._held.discard(partition.partition)
            self.assigned |= {p.partition for p in partitions}
            self._paused -= {p.partition for p in partitions}
        consumer.assign(partitions)
        log.info("%s: assigned partitions %s", self.group, sorted(p.partition for p in partitions))

    def _revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Forget what was read from these partitions: their new owner reads it again."""
        del consumer
        with self._lock:
            for partition in partitions:
                number = partition.partition
                self._epochs[number] = self._epochs.get(number, 0) + 1
                self._buffers.pop(number, None)
                self._held.discard(number)
                self._paused.discard(number)
                self.assigned.discard(number)
        log.info("%s: partitions %s revoked", self.group, sorted(p.partition for p in partitions))
