"""One stream consumer in one router process: follow the journal, translate once, fan out.

The hub reads the journal's newest events, routes and translates them with the consumer's
`Encoder` (the delivery path's own: same route, protocol, identity policy and shared
translations), writes each item once as an SSE message, and offers the messages to every live
subscriber without waiting for any: a subscriber whose buffer overflows is cut off with the
reason, and neither the others nor the journal notice. A subscriber that resumes from an older
position (`Last-Event-ID`) first catches up by reading the journal itself, at the pace of its own
connection, and joins the hub once it has reached it. Nothing holds the journal back: the hub
records its own position (near the head) as the consumer's cursor, subscribers none, so a
position older than what the journal retains is answered with an error.
With no subscriber the hub translates nothing and just keeps up with the journal's head.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from typing import Any

from event_router.delivery.encoder import Encoder, Skip
from event_router.delivery.stats import State, Stats
from event_router.journal import Entry
from event_router.sinks.stream import StreamOptions
from event_router.stream.sse import Position, frame, message_ids
from event_router.stream.subscriber import Message, Subscriber, Write
from event_router.stream.tail import Tail

log = logging.getLogger(__name__)
READ = 500  # entries per journal read
LISTED = 100  # subscribers listed in status, at most
KEEP_EVERY = 1.0  # seconds between records of the hub's position (the journal trims by it)


class PositionRefused(ValueError):
    """A `Last-Event-ID` the journal cannot resume from; `code` says which way."""

    def __init__(self, code: str, message: str, **details: int) -> None:
        super().__init__(message)
        self.code = code
        self.details = details


class Hub:
    """Runs one stream consumer until `stop()` (the engine's `Delivery` for stream sinks)."""

    def __init__(self, encoder: Encoder, tail: Tail, stats: Stats) -> None:
        self.encoder = encoder
        self.consumer = encoder.consumer
        self.options = StreamOptions.model_validate(self.consumer.sink_options)
        self.tail = tail
        self.stats = stats
        self.position = tail.head  # the newest event offered to live subscribers
        self.subscribers: dict[int, Subscriber] = {}
        self.disconnects: Counter[str] = Counter()
        self._event = self.consumer.protocol.value
        self._stopping = asyncio.Event()

    # -- the engine's side --

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Follow the journal until stopped; then every subscriber is told why it ends."""
        self.stats.state = State.RUNNING
        flag = self.tail.listener()
        kept = 0.0
        try:
            while not self._stopping.is_set():
                flag.clear()
                if time.monotonic() - kept >= KEEP_EVERY:
                    kept = time.monotonic()
                    self.tail.keep(self.consumer.name, self.position)
                if not any(s.live for s in self.subscribers.values()):
                    self.position = max(self.position, self.tail.head)
                    self.stats.cursor = self.position
                    await self._wait(flag)
                    continue
                entries, last = await self.tail.read(self.position, READ)
                if last is None:
                    await self._wait(flag)
                    continue
                messages = await self._encode(entries, count=True)
                self.position = self.stats.cursor = last
                self._publish(messages, last)
                await asyncio.sleep(0)  # let the connections write before the next offer
        finally:
            self.stats.state = State.STOPPED
            for subscriber in list(self.subscribers.values()):
                self._drop(
                    subscriber,
                    "stopped",
                    "the stream stopped (its consumer changed, was disabled or removed, or the "
                    "router is stopping): reconnect with Last-Event-ID to resume",
                )

    async def _wait(self, flag: asyncio.Event) -> None:
        stopping = asyncio.create_task(self._stopping.wait())
        committed = asyncio.create_task(flag.wait())
        try:
            await asyncio.wait({stopping, committed}, timeout=1.0, return_when="FIRST_COMPLETED")
        finally:
            for task in (stopping, committed):
                task.cancel()

    async def _encode(self, entries: list[Entry], *, count: bool) -> list[Message]:
        """The messages `entries` make for this consumer; `count` them in its figures once (the
        hub does; a subscriber catching up reads them again)."""
        results = await self.encoder.encode_all(entries)
        messages: list[Message] = []
        for entry, result in zip(entries, results, strict=True):
            if count:
                self.stats.events += 1
            if isinstance(result, Skip):
                if count:
                    self.stats.skip(result.reason, translation_failed=result.translation_failed)
                continue
            ids = message_ids(entry.seq, len(result))
            messages += [
                Message(entry.seq, frame(self._event, item, ids[k]), entry.ingested_at)
                for k, item in enumerate(result)
            ]
        return messages

    def _publish(self, messages: list[Message], upto: int) -> None:
        for subscriber in list(self.subscribers.values()):
            if subscriber.live and not subscriber.offer(messages, upto):
                self._drop(
                    subscriber,
                    "slow",
                    f"more than {self.options.buffer} messages waited for this connection: "
                    "reconnect with Last-Event-ID to resume from the journal",
                )

    def _drop(self, subscriber: Subscriber, reason: str, message: str) -> None:
        if self.subscribers.pop(subscriber.id, None) is not None:
            self.disconnects[reason] += 1
            log.info("%s: subscriber %d cut off (%s)", self.consumer.name, subscriber.id, reason)
        subscriber.close(reason, message)

    # -- the subscribers' side --

    def check(self, start: Position) -> None:
        """Refuse a position the journal cannot resume from (PositionRefused)."""
        head, oldest = self.tail.head, self.tail.oldest()
        if start.seq > head:
            raise PositionRefused(
                "unknown",
                f"Last-Event-ID {start} is beyond this journal's newest event ({head}): it is "
                "not a position of this router; reconnect without Last-Event-ID",
                head=head,
            )
        first_needed = start.seq if start.item is not None else start.seq + 1
        if first_needed < oldest and first_needed <= head:
            raise PositionRefused(
                "gone",
                f"the events after {start} are no longer in the journal (it keeps events from "
                f"{oldest} on, within its retention): reconnect without Last-Event-ID to read "
                "from now, or with a newer one",
                oldest=oldest,
                head=head,
            )

    def subscribe(
        self, start: Position | None, *, user: str, token: str, client: str
    ) -> Subscriber:
        """A new subscriber, from `start` (checked with `check`) or from now."""
        position = start or Position(max(self.position, self.tail.head))
        subscriber = Subscriber(
            position,
            buffer=self.options.buffer,
            stats=self.stats,
            user=user,
            token=token,
            client=client,
        )
        self.subscribers[subscriber.id] = subscriber
        return subscriber

    def leave(self, subscriber: Subscriber) -> None:
        """The connection ended (the client went away, or it was cut off)."""
        self.subscribers.pop(subscriber.id, None)

    async def serve(self, subscriber: Subscriber, write: Write) -> None:
        """Everything the subscriber gets: what it missed, then the live messages."""
        await self._catch_up(subscriber, write)
        await subscriber.pump(write)

    async def _catch_up(self, subscriber: Subscriber, write: Write) -> None:
        """Read the journal from the subscriber's position until it reaches the hub's, then let
        the hub feed it (the check and the joining are one step: nothing falls between)."""
        start = subscriber.start
        position = start.seq if start.item is None else start.seq - 1
        skip = start.item  # items of event start.seq it already has: 0..skip
        while subscriber.closing is None:
            if position >= self.position and skip is None:
                subscriber.queued = max(subscriber.queued, position)
                subscriber.live = True
                return
            entries, last = await self.tail.read(position, READ)
            if last is None:  # nothing after it in the journal: the hub cannot be further
                position, skip = max(position, self.position), None
                continue
            messages = await self._encode(entries, count=False)
            if skip is not None:
                messages = _after_item(messages, start.seq, skip)
                skip = None
            await subscriber.write(write, messages)
            position = last
            subscriber.sent = max(subscriber.sent, position)

    def describe(self) -> dict[str, Any]:
        """For status: the subscribers (the first LISTED), their lag, and why others left."""
        head = self.tail.head
        listed = [s.describe(head) for s in list(self.subscribers.values())[:LISTED]]
        lags = [s["lag"] for s in listed]
        return {
            "subscribers": len(self.subscribers),
            "max_lag": max(lags, default=0),
            "connections": listed,
            "disconnects": dict(self.disconnects),
            "buffer": self.options.buffer,
        }


def _after_item(messages: list[Message], seq: int, item: int) -> list[Message]:
    """`messages` without items 0..item of event `seq` (the subscriber had them)."""
    out, index = [], 0
    for message in messages:
        if message.seq == seq:
            index += 1
            if index <= item + 1:
                continue
        out.append(message)
    return out
