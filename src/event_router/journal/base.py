"""What sources and the web server need from a journal, whichever backs it.

`SqliteJournal` (one process, one file), `RedisJournal` (a stream shared by several router
processes) and `KafkaJournal` (a partitioned topic) all offer this much, so the tracking-log
follower, the bus sources and HTTP ingest work unchanged on each. Cursors, reads and retention
differ (a cursor per consumer on SQLite, a consumer group per consumer on Redis and Kafka) and
stay with each journal's reader (delivery/reader.py).
"""

from __future__ import annotations

import asyncio
import queue
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from typing import Protocol, TypeVar

from event_router.events import NormaliseError, TrackingEvent, parse_json


class Journal(Protocol):
    """The ingest side of a journal: append durably with a source position, and look back."""

    @property
    def head(self) -> int:
        """How many events were ever accepted (SQLite: the newest seq)."""
        ...

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
        """Queue events, a source position and idempotency keys for one atomic commit.

        Events come as `bodies` with their parsed `events`, or with just their `names` when they
        were normalised elsewhere. The future is resolved (its callbacks run) before the
        listeners are woken, and on SQLite before the entries join the in-memory tail."""
        ...

    async def append(
        self,
        bodies: Sequence[bytes],
        position: tuple[str, str] | None = None,
        events: Sequence[TrackingEvent] | None = None,
        *,
        names: Sequence[str] | None = None,
    ) -> tuple[int, int]:
        """`submit` and wait for the commit; raises `JournalFull` when refused."""
        ...

    def listener(self) -> asyncio.Event:
        """An event set whenever this process commits new events (for the calling loop)."""
        ...

    def position(self, source: str) -> str | None: ...

    def positions(self) -> dict[str, str]: ...

    def seen(self, scope: str, keys: Sequence[str]) -> set[str]:
        """Which of `keys` were committed under `scope`."""
        ...

    def forget_seen(self, scope: str, keep: int) -> int:
        """Drop all but the newest `keep` keys of `scope`."""
        ...

    def size(self) -> tuple[int, int]:
        """(retained events, bytes they take)."""
        ...

    def redact(self, names_learner: Callable[[bytes], bool]) -> int:
        """Remove, in one transaction, the events whose body `names_learner` (a learner
        forgotten): SQLite redacts them in place, Redis deletes them, Kafka cannot; how many."""
        ...

    @property
    def kind(self) -> str:
        """Which journal this is (`sqlite`, `redis`, `kafka`), as `learners forget` names it."""
        ...

    @property
    def redaction(self) -> str:
        """What `redact` does to the events, as `learners forget` says it ("deleted")."""
        ...

    def close(self) -> None: ...


class Write(Protocol):
    """One caller's request to a journal's writer thread; `future` gets the outcome."""

    @property
    def future(self) -> Future[tuple[int, int]]: ...


W = TypeVar("W", bound=Write)


def batches(writes: queue.SimpleQueue[W | None], limit: int) -> Iterator[list[W]]:
    """The writer thread's work: each group of writes waiting in `writes` (at most `limit`,
    committed together: a burst costs one fsync), until a None asks it to stop.

    A write whose caller stopped waiting (its future was cancelled: a delivery stopped while
    recording its cursor, an HTTP client gone before its events were committed) is dropped
    before anything of it is written — nothing was promised for it — and a future is never
    resolved twice, which would raise in the writer thread and stop all further commits."""
    while True:
        first = writes.get()
        if first is None:
            return
        batch = [first]
        while len(batch) < limit:
            try:
                more = writes.get_nowait()
            except queue.Empty:
                break
            if more is None:
                writes.put(None)  # seen again by the next round, which then returns
                break
            batch.append(more)
        live = [write for write in batch if write.future.set_running_or_notify_cancel()]
        if live:
            yield live


class Appends:
    """What every journal does alike: `append` (the awaitable form of its `submit`), and the
    listeners its writer thread wakes once events are committed."""

    _listeners: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]

    def listener(self) -> asyncio.Event:
        """An event set whenever this process commits new events (for the calling loop)."""
        flag = asyncio.Event()
        if not hasattr(self, "_listeners"):
            self._listeners = []
        self._listeners.append((asyncio.get_running_loop(), flag))
        return flag

    def _notify(self) -> None:
        """Wake the listeners (called from the writer thread)."""
        for loop, flag in list(getattr(self, "_listeners", ())):
            try:
                loop.call_soon_threadsafe(flag.set)
            except RuntimeError:  # its loop is closed
                self._listeners.remove((loop, flag))

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
        raise NotImplementedError

    async def append(
        self,
        bodies: Sequence[bytes],
        position: tuple[str, str] | None = None,
        events: Sequence[TrackingEvent] | None = None,
        *,
        names: Sequence[str] | None = None,
    ) -> tuple[int, int]:
        """`submit` (events and a source position, no cursors), awaited."""
        write = self.submit(bodies, position, None, events, names=names)
        return await asyncio.wrap_future(write)


def event_names(bodies: Sequence[bytes], events: Sequence[TrackingEvent] | None) -> list[str]:
    """The names of events appended, read from the bodies when the parsed events are not given
    (sources usually pass them); an unreadable body's is "" (the encoder reports it, per
    consumer)."""
    if events is not None:
        return [event.name for event in events]
    names = []
    for body in bodies:
        try:
            names.append(parse_json(body).name)
        except NormaliseError:
            names.append("")
    return names
