"""The journal as delivery sees it: what one engine and one delivery loop need from any journal.

Delivery (route, translate, batch, send, retry, split, dead letters, stop) is written once, in
`delivery.consumer` and `delivery.engine`; what differs between journals is only how a consumer
reads and acknowledges, and that is all these two interfaces say:

- a `Reader` is one consumer's progress through the journal in this process: the next entries,
  and the acknowledgement of a settled batch. On SQLite it is a cursor; on Redis this process's
  membership of the consumer's group (which also takes over the entries a dead member left
  pending); on Kafka it would be a group member whose assigned partitions come and go with
  rebalancing (a mark then names a partition and an offset, and acknowledging commits each
  partition's highest; order holds per partition; on a revocation the reader forgets what it
  read from those partitions and skips their marks when acknowledging, as their new owner reads
  them again from the last commit).
- `Readers` is the journal's side of the engine: a reader per consumer, where a new consumer
  starts, figures for status (lag), rewinds, and housekeeping (status, retention).

Marks are opaque to the delivery: it collects those of a batch's reads and hands them back,
in the order the batches were read, once every item of the batch is settled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from event_router.delivery.stats import Stats
from event_router.journal.entry import Entry


@dataclass(slots=True)
class Read:
    """What one read found: entries to deliver, and what it settles once they are settled."""

    entries: list[Entry]
    mark: Any  # what `Reader.ack` needs to acknowledge this read (a seq, entry ids, offsets)
    unreadable: list[tuple[int, str]] = field(default_factory=list)  # (seq, reason): skipped
    problems: list[str] = field(default_factory=list)  # to report (entries trimmed before sent)


class Reader(Protocol):
    """One consumer's progress through the journal, as this process delivers it."""

    @property
    def position(self) -> int:
        """The newest acknowledged seq: the cursor that status shows."""
        ...

    async def read(self, limit: int, wait: float) -> Read | None:
        """Up to `limit` entries not read yet (own unacknowledged ones of an earlier run and a
        dead member's first, where the journal has members), waiting at most `wait` seconds for
        one; None if none came. Raises `JournalUnavailable` while the journal cannot be read."""
        ...

    async def ack(self, marks: list[Any]) -> None:
        """Acknowledge the reads of one settled batch (called in the order they were read).
        Raises `JournalUnavailable` when it cannot be recorded now (tried again)."""
        ...

    def body(self, seq: int) -> bytes | None:
        """The body of an entry read and not yet acknowledged (for its dead letters)."""
        ...

    async def close(self) -> None:
        """Leave: what was read and not acknowledged is read again later (here or elsewhere)."""
        ...


class Readers(Protocol):
    """The journal's side of the engine of one router process."""

    @property
    def label(self) -> str:
        """How this process reads, for the start banner and log lines."""
        ...

    @property
    def accepted(self) -> int:
        """Events ever accepted into the journal, as this process last saw (for history)."""
        ...

    async def reader(self, consumer: str, created: float) -> Reader:
        """A reader for `consumer`; a new consumer (created at `created`, epoch seconds)
        receives what was accepted after it was created."""
        ...

    def stats_for(self, consumer: str, created: float) -> Stats:
        """The figures a consumer starts with in this process (an earlier run's, where kept)."""
        ...

    async def rewinds(self) -> list[str]:
        """Consumers an operator asked to rewind whose delivery must stop first (see `rewind`)."""
        ...

    async def rewind(self, consumer: str) -> None:
        """Move a stopped consumer back where the operator asked."""
        ...

    def lag(self, consumer: str, stats: Stats, running: bool) -> int | None:
        """Events the consumer has not acknowledged yet (None when not known)."""
        ...

    def behind(self, stats: Stats) -> int:
        """How far a running delivery is from the newest event (for translating ahead)."""
        ...

    def describe(self, consumer: str, snapshot: dict[str, Any]) -> None:
        """Add what this journal knows of the consumer to its status snapshot."""
        ...

    async def observe(self, stats: dict[str, Stats], privacy: dict[str, int]) -> None:
        """Publish this process's figures (per consumer, and its privacy screen's) and read the
        journal's (each poll)."""
        ...

    def learners_retired(self) -> None:
        """Learners were just forgotten (perhaps by another process, which redacted their
        events in the journal): forget what this process holds of the journal in memory."""
        ...

    async def lease(self) -> bool:
        """Whether this process does the once-per-journal work now (replays, housekeeping)."""
        ...

    async def housekeep(
        self, status: dict[str, bytes], enabled: list[str], retention: float
    ) -> None:
        """Keep the status snapshots; now and then, `trim`."""
        ...

    async def trim(self, enabled: list[str], retention: float) -> int:
        """Drop what every enabled consumer has acknowledged and is older than `retention`
        seconds; how many events went."""
        ...

    async def close(
        self, status: dict[str, bytes], stats: dict[str, Stats], privacy: dict[str, int]
    ) -> None:
        """Keep the last figures and let go of the journal's connections."""
        ...
