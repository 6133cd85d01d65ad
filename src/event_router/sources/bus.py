"""Consume the LMS's tracking events from the Open edX event bus (Redis Streams) into the journal.

The router reads with **its own** consumer group (a group splits its entries between its members,
so joining Aspects' group would take events away from it). Each batch read from Redis is decoded,
de-duplicated by the message `id`, and appended to the journal in one transaction together with
the message ids and the source position; entries are XACKed only after that commit. A crash
before the commit leaves the entries pending on our consumer name, which the next start under
that name reads first (`XREADGROUP ... 0`: a single process keeps its name in the journal; in
scale-out each process reads as its member name, so processes of one machine never share one); a
crash between the commit and the XACK re-reads messages whose ids
the journal already has, and they are skipped. Entries left pending by a consumer of the group
that went away are claimed (`XAUTOCLAIM`) once idle long enough.

What is not a tracking event is never acked away silently: other event types on the topic are
acked and counted (they are not for us); entries that cannot be decoded are copied, with the
reason, to a `<stream>:<group>:rejected` stream for inspection before they are acked, and counted
and logged with their entry and message ids. A pending entry that comes back without fields was
trimmed by the producer's MAXLEN before we committed it: counted and logged as lost upstream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import orjson
import redis.asyncio as redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from event_router.bus.tracking import Decoded, decode_tracking
from event_router.bus.wire import Metadata, WireError, stream_name
from event_router.journal import Journal, JournalFull
from event_router.sources.intake import Intake
from event_router.sources.seen import SeenKeys, count_rejected, skip_type

log = logging.getLogger(__name__)

_REJECTED_MAXLEN = 100_000  # entries kept in the rejected stream (approximately)


@dataclass(frozen=True, slots=True)
class BusOptions:
    """Where `event-router run` reads the bus: `--redis-url`, `--bus-topic`, `--bus-prefix`, ..."""

    url: str
    topic: str = "analytics"
    prefix: str | None = None
    group: str = "event-router"
    # The name in the group; None: the one this journal saved for the machine (one process).
    # Processes sharing a journal on one machine each need their own (scale-out: the member).
    consumer: str | None = None


class BusSource:
    """One stream (`<prefix>-<topic>`) read by our consumer group until `stop` is set."""

    def __init__(
        self,
        journal: Journal,
        url: str,
        topic: str,
        *,
        prefix: str | None = None,
        group: str = "event-router",
        consumer: str | None = None,
        batch: int = 500,
        block: float = 1.0,
        claim_idle: float = 60.0,
        claim_every: float = 30.0,
        keep_seen: int = 200_000,
        intake: Intake | None = None,
    ) -> None:
        self.journal = journal
        self.intake = intake or Intake(journal)  # its privacy screen applies here too
        self.url = url
        self.stream = stream_name(topic, prefix)
        self.group = group
        self.source_id = f"bus:{self.stream}:{group}"
        self.rejected_stream = f"{self.stream}:{group}:rejected"
        saved = journal.position(self.source_id)
        self._saved: dict[str, Any] = orjson.loads(saved) if saved else {}
        # A stable consumer name per journal, so a restart finds its own pending entries.
        self.consumer = consumer or self._saved.get("consumer") or _new_consumer_name()
        self.batch = batch
        self.block = block
        self.claim_idle = claim_idle
        self.claim_every = claim_every
        self.keep_seen = keep_seen  # ten times the producer's default MAXLEN: older is trimmed
        self.counts: Counter[str] = Counter()
        self._last_claim = 0.0
        self._last_entry: str | None = self._saved.get("entry")
        self._seen = SeenKeys(journal, self.source_id, keep_seen)

    async def run(self, stop: asyncio.Event) -> None:
        delay = 0.5
        while not stop.is_set():
            client = redis.from_url(self.url, socket_timeout=self.block + 10)
            try:
                await self._consume(client, stop)
                delay = 0.5
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                self.counts["redis_errors"] += 1
                log.warning(
                    "%s: Redis unavailable (%s); retrying in %.1f s", self.stream, exc, delay
                )
                await _sleep(stop, delay)
                delay = min(delay * 2, 30.0)
            except ResponseError as exc:
                # NOGROUP (stream or group deleted under us) and the like: set up again.
                self.counts["redis_errors"] += 1
                log.warning("%s: %s; setting up the group again", self.stream, exc)
                await _sleep(stop, delay)
                delay = min(delay * 2, 30.0)
            except Exception:  # the journal or a bug: say so, keep the other sources running
                self.counts["errors"] += 1
                log.exception("%s: bus source failed; starting over in %.1f s", self.stream, delay)
                await _sleep(stop, delay)
                delay = min(delay * 2, 30.0)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await client.aclose()

    async def _consume(self, client: redis.Redis, stop: asyncio.Event) -> None:
        await self._save_position()  # the consumer name, before anything is read under it
        await self._ensure_group(client)
        log.info(
            "reading %s as %s/%s (own pending entries first)",
            self.stream,
            self.group,
            self.consumer,
        )
        await self._own_pending(client, stop)
        while not stop.is_set():
            if time.monotonic() - self._last_claim >= self.claim_every:
                await self._claim(client, stop)
            reply = await client.xreadgroup(
                self.group,
                self.consumer,
                {self.stream: ">"},
                count=self.batch,
                block=max(1, int(self.block * 1000)),
            )
            if entries := _entries(reply):
                await self._handle(client, entries, stop)
            await self._seen.prune(self.counts["accepted"])

    async def _ensure_group(self, client: redis.Redis) -> None:
        """Create our group at the start of the stream (never `$`: the backlog is wanted)."""
        try:
            await client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
            log.info("created consumer group %s on %s", self.group, self.stream)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _own_pending(self, client: redis.Redis, stop: asyncio.Event) -> None:
        """Entries delivered to our name but never acked (we crashed): handle them first."""
        after = "0"
        while not stop.is_set():
            reply = await client.xreadgroup(
                self.group, self.consumer, {self.stream: after}, count=self.batch
            )
            entries = _entries(reply)
            if not entries:
                return
            self.counts["resumed"] += len(entries)
            if not await self._handle(client, entries, stop):
                return
            after = _text(entries[-1][0])

    async def _claim(self, client: redis.Redis, stop: asyncio.Event) -> None:
        """Take over entries idle on another consumer of the group (a dead peer) and handle them."""
        self._last_claim = time.monotonic()
        start = "0-0"
        while not stop.is_set():
            reply: Any = await client.xautoclaim(
                self.stream,
                self.group,
                self.consumer,
                min_idle_time=int(self.claim_idle * 1000),
                start_id=start,
                count=self.batch,
            )
            start = _text(reply[0])
            entries = reply[1]
            deleted = [_text(i) for i in reply[2]] if len(reply) > 2 else []
            if entries:
                self.counts["claimed"] += len(entries)
                log.info("%s: claimed %d idle entries from peers", self.stream, len(entries))
                if not await self._handle(client, entries, stop):
                    return
            if deleted:
                # Redis already dropped them from the pending list: they were trimmed.
                self._trimmed(deleted, self.journal.seen(self.source_id, _entry_keys(deleted)))
            if start == "0-0":
                return

    async def _handle(
        self,
        client: redis.Redis,
        entries: Entries,
        stop: asyncio.Event,
    ) -> bool:
        """Commit the batch's tracking events, then ack every entry; False if stopped first."""
        ids = [_text(entry_id) for entry_id, _ in entries]
        decoded: list[Decoded] = []
        rejected: list[tuple[str, dict[bytes, bytes], str]] = []
        trimmed: list[str] = []
        for entry_id, (_, fields) in zip(ids, entries, strict=True):
            if not fields:
                trimmed.append(entry_id)
                continue
            try:
                result = decode_tracking(entry_id, fields)
            except WireError as exc:
                rejected.append((entry_id, fields, str(exc)))
                continue
            except Exception as exc:  # whatever the input, one entry never stops the source
                rejected.append((entry_id, fields, f"cannot decode: {exc!r}"))
                continue
            if isinstance(result, Metadata):
                skip_type(self.counts, log, self.stream, result.event_type, entry_id)
            else:
                decoded.append(result)
        keys = [d.key for d in decoded] + _entry_keys(trimmed)
        known = self.journal.seen(self.source_id, keys) if keys else set()
        if trimmed:
            self._trimmed(trimmed, known)
        fresh: list[Decoded] = []
        batch_keys: set[str] = set()
        for item in decoded:
            if item.key in known or item.key in batch_keys:
                self.counts["duplicates"] += 1
                continue
            batch_keys.add(item.key)
            fresh.append(item)
        if fresh:
            marks = [k for d in fresh for k in (d.key, f"entry:{d.entry_id}")]
            if not await self._commit(fresh, marks, ids[-1], stop):
                return False
            self.counts["accepted"] += len(fresh)
        if rejected:
            # Kept aside first: if this fails, nothing is acked and the batch comes back.
            async with client.pipeline(transaction=False) as pipe:
                for entry_id, fields, reason in rejected:
                    copy: dict[Any, Any] = {
                        **fields,
                        b"x-router-reason": reason.encode(),
                        b"x-router-entry": entry_id.encode(),
                        b"x-router-stream": self.stream.encode(),
                    }
                    pipe.xadd(self.rejected_stream, copy, maxlen=_REJECTED_MAXLEN, approximate=True)
                await pipe.execute()
        await client.xack(self.stream, self.group, *ids)
        for entry_id, fields, reason in rejected:
            self._rejected(entry_id, fields, reason)
        return True

    async def _commit(
        self, fresh: list[Decoded], marks: list[str], last: str, stop: asyncio.Event
    ) -> bool:
        self._last_entry = last
        position = self._position()
        events, bodies = self.intake.screen([d.event for d in fresh], [d.body for d in fresh])
        while True:
            future = self.journal.submit(bodies, position, None, events, (self.source_id, marks))
            try:
                await asyncio.wrap_future(future)
                return True
            except JournalFull as exc:
                # Keep the entries pending (unacked): Redis holds them until the journal can.
                self.counts["journal_full"] += 1
                log.error("%s: journal refuses events (%s); retrying in 5 s", self.stream, exc)
                if stop.is_set():
                    return False
                await _sleep(stop, 5)

    def _position(self) -> tuple[str, str]:
        value = {"consumer": self.consumer, "entry": self._last_entry}
        return self.source_id, orjson.dumps(value).decode()

    async def _save_position(self) -> None:
        await asyncio.wrap_future(self.journal.submit((), self._position()))

    # -- counting and logging --

    def _trimmed(self, entry_ids: list[str], known: set[str]) -> None:
        for entry_id in entry_ids:
            if f"entry:{entry_id}" in known:
                self.counts["duplicates"] += 1  # committed before a crash, trimmed since
                continue
            self.counts["trimmed"] += 1
            log.error(
                "%s: entry %s was trimmed from the stream before it was committed (lost upstream: "
                "raise the producer's EVENT_BUS_REDIS_STREAM_MAX_LEN)",
                self.stream,
                entry_id,
            )

    def _rejected(self, entry_id: str, fields: dict[bytes, bytes], reason: str) -> None:
        if count_rejected(self.counts):
            message_id = fields.get(b"id", b"").decode("utf-8", "replace") or "-"
            log.warning(
                "%s: entry %s (message id %s) rejected: %s; copied to %s",
                self.stream,
                entry_id,
                message_id,
                reason,
                self.rejected_stream,
            )


Entries = list[tuple[bytes, dict[bytes, bytes]]]


def _entries(reply: Any) -> Entries:
    """The entries of a one-stream XREADGROUP reply (`[[stream, [(id, fields), ...]]]`)."""
    return list(reply[0][1]) if reply else []


def _new_consumer_name() -> str:
    return f"{socket.gethostname()}-{secrets.token_hex(4)}"


def _entry_keys(entry_ids: list[str]) -> list[str]:
    return [f"entry:{entry_id}" for entry_id in entry_ids]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
