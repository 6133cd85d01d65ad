"""Translations made at ingest, kept by journal seq for the deliveries that read those events.

With translation workers, sources translate each event for the (protocol, identity policy)
pairs of the consumers keeping up (`sources.intake`) in the pass that normalises it, so the
event is parsed once in its life. The journal holds events and positions only; these
translations wait here, under the seq the commit gave each event, until deliveries read it.

The ingest side hands them over with the write (`SqliteJournal.submit(on_commit=)`): the
journal's writer thread runs that hook once the write is committed, while its readers wait for
the commit's entries to join the in-memory tail, and before it wakes them, so a delivery reading
those entries from memory finds their translations here. Anything else is a miss, which only
costs translating again, never a wrong item: a reader that read those entries from the file in
that instant, translations dropped for room. Only the SQLite journal numbers a write's events
consecutively in their order (Redis and Kafka spread them over streams and partitions), so only
it is given translations made at ingest (`Intake` refuses others). A seq is never given twice,
so what is found under one is that event's.

Bounded by count and bytes like the journal's tail, the oldest commits dropped first, and
dropped once every delivery that could use them has passed them (`settled`): memory stays flat
whatever the consumers' lag.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence

from event_router.routing.consumer import Consumer, Protocol
from event_router.translate.workers import IngestTranslations, ProtocolPolicies

WARM_LAG = 10_000  # events: half the journal's in-memory tail

_COUNT = 20_000  # events, as the journal's in-memory tail
# ... and at most this many bytes of serialised items: with several protocols translated at
# ingest, 20,000 events' translations alone could weigh ~120 MB.
_BYTES = 48 << 20


def shares_translations(consumer: Consumer) -> bool:
    """Whether a consumer uses translations it may share (those made at ingest among them):
    translated, and with no hooks (see `Encoder._own_translation`)."""
    return consumer.protocol is not Protocol.EDX and not consumer.hooks


def warm_pairs(running: Iterable[tuple[Consumer, int]]) -> ProtocolPolicies:
    """(protocol, identity policy) worth translating for at ingest, from the running consumers
    and how far each is behind the newest event: those that take every event and read the
    journal's in-memory tail (one far behind would find those translations gone by the time it
    gets there)."""
    pairs = {
        (consumer.protocol.value, consumer.identity.value)
        for consumer, behind in running
        if shares_translations(consumer) and consumer.route.is_open and behind < WARM_LAG
    }
    return tuple(sorted(pairs))


def _weight(made: IngestTranslations) -> int:
    """The bytes one event's translations hold (their serialised items; a reason: none)."""
    return sum(sum(map(len, value)) for value in made.values() if isinstance(value, list))


def no_translations(seq: int) -> IngestTranslations | None:
    """`MadeAtIngest.find` where none are kept."""
    return None


class MadeAtIngest:
    """Seq -> the translations made for that event at ingest. Filled by the journal's writer
    thread (under a lock, once per commit); read by encoders on the event loop without one (a
    single look-up in a dict is atomic), once per entry. The bytes are counted per commit (a
    commit's seqs are consecutive), so dropping a delivered commit weighs nothing again."""

    def __init__(self, count: int = _COUNT, max_bytes: int = _BYTES) -> None:
        self._items: dict[int, IngestTranslations] = {}
        self._commits: deque[tuple[int, int, int]] = deque()  # (first, last, bytes), in order
        self._count = count
        self._max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()
        self.find: Callable[[int], IngestTranslations | None] = self._items.get

    def on_commit(self, made: Sequence[IngestTranslations]) -> Callable[[int, int], None]:
        """What the SQLite journal runs when the write that appends the events `made` was
        translated from commits (`SqliteJournal.submit(on_commit=)`): keeps them under the
        seqs `first`..`last` the commit gave (a count that does not match keeps nothing)."""

        def committed(first: int, last: int) -> None:
            if last - first + 1 == len(made):
                self.keep(first, made)

        return committed

    def keep(self, first: int, made: Sequence[IngestTranslations]) -> None:
        """Keep `made` under seqs `first`, `first + 1`, ..., dropping the oldest for room."""
        weight = 0
        with self._lock:
            items = self._items
            for seq, translations in enumerate(made, first):
                if translations:
                    items[seq] = translations
                    weight += _weight(translations)
            self._commits.append((first, first + len(made) - 1, weight))
            self._bytes += weight
            while len(items) > self._count or self._bytes > self._max_bytes:
                self._drop_oldest()

    def settled(self, through: int) -> None:
        """Drop what was kept for seqs up to `through`: every delivery that could use it has
        passed it (one restarted or rewound translates again)."""
        with self._lock:
            commits = self._commits
            if commits and commits[-1][1] <= through:  # all delivered: the usual case
                self._items.clear()
                commits.clear()
                self._bytes = 0
                return
            while commits and commits[0][1] <= through:
                self._drop_oldest()

    def _drop_oldest(self) -> None:
        """Drop the oldest commit's translations (with `_lock` held)."""
        first, last, weight = self._commits.popleft()
        pop = self._items.pop
        for seq in range(first, last + 1):
            pop(seq, None)
        self._bytes -= weight

    def clear(self) -> None:
        """Drop everything (learners were forgotten: nothing made from their events stays)."""
        with self._lock:
            self._items.clear()
            self._commits.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def bytes(self) -> int:
        return self._bytes
