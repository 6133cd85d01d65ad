"""The journal as a Redis stream, shared by several router processes (scale-out mode).

Everything lives under one key prefix (default `event-router`):

| key | what |
| --- | --- |
| `<prefix>:journal` | the stream: one entry per accepted event, fields `b` (body) and `n` (name) |
| `<prefix>:accepted` | how many events were ever accepted (the journal's `head`) |
| `<prefix>:positions:<node>` | source positions of one machine's sources (hash) |
| `<prefix>:seen:<scope>` | idempotency keys of a source (sorted set, scored by time) |
| `<prefix>:status` | per-process delivery snapshots (hash: member -> JSON) |

Appends go through one writer thread that drains its queue into one MULTI/EXEC: the entries,
the source position, the idempotency keys and the counter land together or not at all, and a
burst of small appends costs one round trip. An event is accepted once EXEC has answered; how
durable that is depends on the server's persistence (`appendonly yes`, `appendfsync always` for
the same promise as SQLite's FULL; see docs/scaling.md). Each consumer reads through its own
consumer group (`delivery.group_reader`), so there are no cursors here.

Positions are kept per node (the host name by default), because two machines following
`/edx/var/log/tracking/tracking.log` follow two different files.
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
from urllib.parse import urlsplit, urlunsplit

import orjson
import redis
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from event_router.events import TrackingEvent
from event_router.journal.base import Appends, batches, event_names
from event_router.journal.entry import Entry, JournalFull

log = logging.getLogger(__name__)

_SEQ_BITS = 21  # entry id "<ms>-<n>" -> seq (ms << 21) | n, exact while n < 2**21
_MAX_WRITES = 1024  # writes merged into one MULTI/EXEC
_local_seq = 0


def entry_seq(entry_id: str) -> int:
    """A number for a stream entry id, unique and ordered like the ids (for caches, dead letters).

    Ids are `<milliseconds>-<n>`; n passes 2**21 only when the server clock stood still (or went
    back) for two million appends. Such an entry gets a unique negative number instead: never
    mistaken for another, only never shared with another process's translation cache.
    """
    ms, _, n = entry_id.partition("-")
    number = int(n or 0)
    if number < 1 << _SEQ_BITS:
        return (int(ms) << _SEQ_BITS) | number
    global _local_seq
    _local_seq -= 1
    return _local_seq


def entry_time(entry_id: str) -> float:
    """When Redis accepted the entry (its id is the server's clock in milliseconds)."""
    return int(entry_id.partition("-")[0]) / 1000


def to_entry(entry_id: str, fields: dict[bytes, bytes]) -> Entry:
    """A stream entry as the `Entry` the encoder and the sender work with."""
    name = fields.get(b"n", b"").decode("utf-8", "replace")
    return Entry(entry_seq(entry_id), entry_time(entry_id), None, fields.get(b"b", b""), name)


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


@dataclass(slots=True)
class _Write:
    bodies: Sequence[bytes]
    names: list[str]
    position: tuple[str, str] | None
    seen: tuple[str, Sequence[str]] | None
    future: Future[tuple[int, int]]


class RedisJournal(Appends):
    """The journal stream at `url` under `prefix`. Thread-safe; appends are atomic per commit."""

    kind = "redis"
    redaction = "deleted"

    def __init__(
        self,
        url: str,
        prefix: str = "event-router",
        *,
        node: str | None = None,
        socket_timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.node = node or socket.gethostname()
        self.stream = f"{prefix}:journal"
        self.status_key = f"{prefix}:status"
        self._accepted = f"{prefix}:accepted"
        self._positions = f"{prefix}:positions:{self.node}"
        self._socket_timeout = socket_timeout
        self._client = redis.Redis.from_url(url, socket_timeout=socket_timeout)
        try:
            self._head = int(self._client.get(self._accepted) or 0)
        except RedisError as exc:
            self._client.close()
            raise JournalFull(f"journal at {safe_url(url)} is not reachable: {exc}") from exc
        self._queue: queue.SimpleQueue[_Write | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_loop, name="journal-writer", daemon=True)
        self._writer.start()

    def seen_key(self, scope: str) -> str:
        return f"{self.prefix}:seen:{scope}"

    def async_client(self, **options: Any) -> aioredis.Redis:
        """A new asyncio client on the journal's server (each delivery has its own)."""
        return aioredis.Redis.from_url(self.url, socket_timeout=self._socket_timeout, **options)

    # -- writing --

    @property
    def head(self) -> int:
        """How many events were ever accepted, as of this process's last commit or refresh."""
        return self._head

    def refresh(self) -> int:
        """Read `head` again (other processes append too)."""
        self._head = max(self._head, int(self._client.get(self._accepted) or 0))
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
        """Queue events (raw JSON bytes), a source position and idempotency keys for one commit.

        The future resolves to the (first, last) `entry_seq` of the appended events ((0, 0) when
        none) once EXEC answered, or raises `JournalFull`. Cursors do not exist on Redis (each
        consumer is a group): passing any is a programming error.
        """
        if cursors:
            raise ValueError("a Redis journal has no cursors: consumers read through groups")
        if names is None:
            names = event_names(bodies, events)
        future: Future[tuple[int, int]] = Future()
        self._queue.put(_Write(bodies, list(names), position, seen, future))
        return future

    def _write_loop(self) -> None:
        for batch in batches(self._queue, _MAX_WRITES):
            self._commit(batch)

    def _commit(self, batch: list[_Write]) -> None:
        now = time.time()
        pipe = self._client.pipeline(transaction=True)
        appended = 0
        for write in batch:
            for body, name in zip(write.bodies, write.names, strict=True):
                pipe.xadd(self.stream, {"b": body, "n": name})
            appended += len(write.bodies)
            if write.position is not None:
                pipe.hset(self._positions, write.position[0], write.position[1])
            if write.seen is not None and write.seen[1]:
                scope, keys = write.seen
                pipe.zadd(self.seen_key(scope), dict.fromkeys(keys, now))
        if appended:
            pipe.incrby(self._accepted, appended)
        try:
            replies = pipe.execute()
        except Exception as exc:  # Redis down, OOM, a bug: refuse the whole commit, loudly
            error = JournalFull(f"journal write failed: {exc}")
            for write in batch:
                write.future.set_exception(error)
            return
        finally:
            pipe.reset()
        if appended:
            self._head = max(self._head, int(replies[-1]))
        index = 0
        for write in batch:
            ids = [text(r) for r in replies[index : index + len(write.bodies)]]
            index += len(write.bodies)
            index += (write.position is not None) + (write.seen is not None and bool(write.seen[1]))
            write.future.set_result((entry_seq(ids[0]), entry_seq(ids[-1])) if ids else (0, 0))
        if appended:
            self._notify()

    # -- reading --

    def position(self, source: str) -> str | None:
        value = self._client.hget(self._positions, source)
        return text(value) if value is not None else None

    def positions(self) -> dict[str, str]:
        values: dict[Any, Any] = self._client.hgetall(self._positions)
        return {text(k): text(v) for k, v in values.items()}

    def seen(self, scope: str, keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(keys), 1000):
            chunk = list(keys[start : start + 1000])
            scores = self._client.zmscore(self.seen_key(scope), chunk)
            found.update(k for k, s in zip(chunk, scores, strict=True) if s is not None)
        return found

    def forget_seen(self, scope: str, keep: int) -> int:
        return int(self._client.zremrangebyrank(self.seen_key(scope), 0, -keep - 1))

    def redact(self, names_learner: Callable[[bytes], bool]) -> int:
        """Delete (XDEL, one atomic call) every entry whose body `names_learner`. A stream entry
        cannot be rewritten in place; ids are positions that stay ordered with a gap, and a
        consumer group that held a deleted entry pending finds it gone and moves on."""
        hits: list[Any] = []
        start = "-"
        while True:
            rows: Any = self._client.xrange(self.stream, min=start, max="+", count=2000)
            for entry_id, fields in rows:
                if names_learner(fields.get(b"b", b"")):
                    hits.append(entry_id)
            if len(rows) < 2000:
                break
            start = "(" + text(rows[-1][0])
        return int(self._client.xdel(self.stream, *hits)) if hits else 0

    def body(self, entry_id: str) -> bytes | None:
        """The body of one entry (None once trimmed)."""
        rows: Any = self._client.xrange(self.stream, entry_id, entry_id, count=1)
        return bytes(rows[0][1].get(b"b", b"")) if rows else None

    def size(self) -> tuple[int, int]:
        """(retained events, bytes of Redis memory the stream takes, estimated by sampling)."""
        pipe = self._client.pipeline(transaction=False)
        pipe.xlen(self.stream)
        pipe.memory_usage(self.stream, samples=5)
        count, memory = pipe.execute()
        return int(count), int(memory or 0)

    def cluster(self) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """What `event-router status` shows of a running cluster: XINFO GROUPS by consumer
        (group) name, and each router process's last published snapshot by member name."""
        try:
            infos: Any = self._client.xinfo_groups(self.stream)
        except redis.ResponseError as exc:
            if "no such key" not in str(exc).lower():
                raise
            infos = []  # no event accepted yet
        members: dict[Any, Any] = self._client.hgetall(self.status_key)
        groups = {text(g["name"]): {text(k): v for k, v in g.items()} for g in infos}
        return groups, {text(k): orjson.loads(v) for k, v in members.items()}

    def rewind_group(self, group: str, moment: float) -> str:
        """Set `group`'s last-delivered id to the last entry accepted before `moment`, so its
        members receive again everything since (`consumers rewind`); returns that id."""
        ms = int(moment * 1000)
        before: Any = (
            self._client.xrevrange(self.stream, f"({ms}-0", "-", count=1) if ms > 0 else []
        )
        last = text(before[0][0]) if before else "0-0"
        self._client.xgroup_setid(self.stream, group, last)
        return last

    def close(self) -> None:
        self._queue.put(None)
        self._writer.join(timeout=10)
        with contextlib.suppress(RedisError):
            self._client.close()
