"""The embedded journal: one SQLite file in WAL mode, written by one thread with group commits.

Every append and cursor move goes through a single writer thread that drains its queue into one
transaction, so a burst of small appends costs one fsync. Readers use their own connection and
never block the writer (WAL). Recent events are also kept in memory, so consumers that keep up
never touch the disk to read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from event_router.events import NormaliseError, TrackingEvent, parse_json
from event_router.home import private_file
from event_router.journal.base import Appends, batches
from event_router.journal.entry import REDACTED, Entry, JournalFull, redacted_body
from event_router.journal.housekeeping import Housekeeping, first_since
from event_router.journal.schema import migrate
from event_router.walmode import use_wal

log = logging.getLogger(__name__)
_CLOCK_SLACK = 60.0  # seconds a clock may step back without arrival times following it
_RECENT = 20_000  # events kept in memory for consumers that keep up (memory stays flat)
_RECENT_BYTES = 64 << 20  # ... and at most this many bytes of bodies


@dataclass(slots=True)
class _Write:
    bodies: Sequence[bytes]
    events: Sequence[TrackingEvent] | None
    position: tuple[str, str] | None
    cursors: dict[str, int] | None
    future: Future[tuple[int, int]]
    seen: tuple[str, Sequence[str]] | None = None
    names: Sequence[str] | None = None
    on_commit: Callable[[int, int], None] | None = None


def _entries(write: _Write, first: int, now: float) -> list[Entry]:
    """The entries of one write, numbered from `first`; a body given without its event or name
    is parsed here (sources validate before appending, so it parses; a disk read reports it)."""
    bodies, events, names = write.bodies, write.events, write.names
    out = []
    for i, body in enumerate(bodies):
        event = events[i] if events is not None else None
        name = names[i] if names is not None else None
        if event is None and name is None:
            with contextlib.suppress(NormaliseError):
                event = parse_json(body)
        out.append(Entry(first + i, now, event, body, name))
    return out


class SqliteJournal(Housekeeping, Appends):
    """The journal in `<home>/journal.db`. Thread-safe; append and cursor writes are durable."""

    kind = "sqlite"
    redaction = "redacted in place"

    def __init__(self, path: Path, *, synchronous: str = "FULL") -> None:
        self.path = path
        private_file(path)  # before SQLite: its -wal and -shm files take the main file's mode
        self._synchronous = synchronous
        self._reader = self.connect()
        try:
            migrate(self._reader)
        except BaseException:  # a journal from a newer version, a full disk: nothing stays open
            self._reader.close()
            raise
        self._read_lock = threading.Lock()
        self._queue: queue.SimpleQueue[_Write | None] = queue.SimpleQueue()
        self._recent: OrderedDict[int, Entry] = OrderedDict()
        self._recent_bytes = 0
        # Reentrant: a future's callback run under it (see `_commit`) may read the journal.
        self._recent_lock = threading.RLock()
        row = self._reader.execute("SELECT seq FROM sqlite_sequence WHERE name='events'").fetchone()
        self._head = row[0] if row else 0
        last = self._reader.execute("SELECT max(ingested_at) FROM events").fetchone()[0]
        self._clock = float(last or 0.0)  # the last arrival time (see `_arrival`)
        self.commits = 0  # transactions written: appends and cursor moves are grouped into few
        self._writer = threading.Thread(target=self._write_loop, name="journal-writer", daemon=True)
        self._writer.start()

    def connect(self) -> sqlite3.Connection:
        """A connection of its own on the journal's file (closed by the caller): the writer
        thread's, housekeeping's, and that of what delivery keeps in this file (status
        snapshots, rewind requests: `delivery.status_store`, `delivery.rewind`)."""
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        use_wal(conn)
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        return conn

    # -- writing --

    @property
    def head(self) -> int:
        """The seq of the newest accepted event (0 when none ever was)."""
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
        on_commit: Callable[[int, int], None] | None = None,
    ) -> Future[tuple[int, int]]:
        """Queue events (raw JSON bytes) and/or a source position and cursor moves for one commit.

        The future resolves to (first seq, last seq) of the appended events once committed, or
        raises `JournalFull`. Sources normalise before appending and may pass the parsed `events`
        (parallel to `bodies`) so the in-memory copy costs no second parse. `seen` is (scope,
        keys): idempotency keys (e.g. bus message ids) recorded in the same transaction, so a
        source that is handed a message again after a crash can tell it is already in. Instead
        of `events`, a source that normalised elsewhere passes their `names`.

        `on_commit(first, last)` runs in the writer thread once the write is committed, before
        readers in this process can read the new entries from memory and before the listeners
        are woken: what a caller keeps for the readers of those seqs (`delivery.made_at_ingest`)
        is there when they read them (a reader of the file in that instant may see them first).
        It must not raise (what it raises is logged) nor block.
        """
        future: Future[tuple[int, int]] = Future()
        self._queue.put(_Write(bodies, events, position, cursors, future, seen, names, on_commit))
        return future

    async def set_cursor(self, consumer: str, seq: int) -> None:
        await asyncio.wrap_future(self.submit((), None, {consumer: seq}))

    def _write_loop(self) -> None:
        conn = self.connect()
        for batch in batches(self._queue, 1024):
            self._commit(conn, batch)
        conn.close()

    def _arrival(self) -> float:
        """The arrival time of the next commit. Times rise with seq, which look-ups by time rely
        on (`first_since`): a clock stepped back a little (NTP) is not followed. A step back of
        more than a minute is (or one bad jump ahead would freeze every later time, and with it
        trimming); look-ups by time around such a step are approximate, and trimming never
        passes a consumer's cursor whatever the times say."""
        now = time.time()
        if now < self._clock:
            if self._clock - now <= _CLOCK_SLACK:
                return self._clock
            log.warning(
                "the system clock went back %.0f s; arrival times follow", self._clock - now
            )
        return now

    def _commit(self, conn: sqlite3.Connection, batch: list[_Write]) -> None:
        now = self._clock = self._arrival()
        results: list[tuple[int, int]] = []
        appended: list[Entry] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            seq = self._head
            for write in batch:
                first = seq + 1
                if write.bodies:
                    fresh = _entries(write, first, now)
                    conn.executemany(
                        "INSERT INTO events (seq, body, ingested_at, name) VALUES (?,?,?,?)",
                        [(e.seq, e.body, now, e.name or None) for e in fresh],
                    )
                    appended += fresh
                    seq += len(fresh)
                if write.position is not None:
                    conn.execute(
                        "INSERT INTO positions (source, position, updated_at) VALUES (?,?,?) "
                        "ON CONFLICT(source) DO UPDATE SET position=excluded.position, "
                        "updated_at=excluded.updated_at",
                        (*write.position, now),
                    )
                if write.seen is not None:
                    scope, keys = write.seen
                    conn.executemany(
                        "INSERT OR IGNORE INTO seen (scope, key, seen_at) VALUES (?,?,?)",
                        [(scope, key, now) for key in keys],
                    )
                for consumer, cursor in (write.cursors or {}).items():
                    conn.execute(
                        "INSERT INTO cursors (consumer, seq, updated_at) VALUES (?,?,?) "
                        "ON CONFLICT(consumer) DO UPDATE SET seq=MAX(seq, excluded.seq), "
                        "updated_at=excluded.updated_at",
                        (consumer, cursor, now),
                    )
                results.append((first, seq))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            error = JournalFull(f"journal write failed: {exc}")
            for write in batch:
                write.future.set_exception(error)
            return
        # Readers in this process see the commit whole: the new head, what the futures'
        # callbacks keep for those seqs (see `submit`), and the entries in memory.
        with self._recent_lock:
            self._head = seq
            self.commits += 1
            for write, result in zip(batch, results, strict=True):
                if write.on_commit is not None:
                    try:
                        write.on_commit(*result)
                    except Exception:  # a caller's hook must never stop the writer
                        log.exception("a commit hook failed (seqs %d-%d)", *result)
                write.future.set_result(result)
            self._remember(appended)
        if appended:
            self._notify()

    def _remember(self, appended: list[Entry]) -> None:
        """Keep the new entries in memory (with `_recent_lock` held)."""
        for entry in appended:
            if entry.name:  # an unreadable body is left to a disk read, which reports it
                self._recent[entry.seq] = entry
                self._recent_bytes += len(entry.body)
        while len(self._recent) > _RECENT or self._recent_bytes > _RECENT_BYTES:
            self._recent_bytes -= len(self._recent.popitem(last=False)[1].body)

    # -- reading --

    def read(self, after: int, limit: int) -> tuple[list[Entry], list[tuple[int, str]]]:
        """Up to `limit` entries after `after`, in order, and (seq, reason) of unreadable ones."""
        with self._recent_lock:
            first = next(iter(self._recent), None)
            if first is not None and first <= after + 1:
                cached: list[Entry] = []
                seq = after + 1
                while len(cached) < limit:
                    entry = self._recent.get(seq)
                    if entry is None:
                        break
                    cached.append(entry)
                    seq += 1
                if cached or seq > self._head:
                    return cached, []
        with self._read_lock:
            rows = self._reader.execute(
                "SELECT seq, body, ingested_at, name FROM events "
                "WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit),
            ).fetchall()
        entries: list[Entry] = []
        bad: list[tuple[int, str]] = []
        for seq, body, ingested_at, name in rows:
            entry = Entry(seq, ingested_at, None, bytes(body), name)
            if name is None:  # written without a name: parse now, to report a bad body early
                try:
                    entry.event  # noqa: B018
                except NormaliseError as exc:
                    bad.append((seq, exc.reason))
                    continue
            entries.append(entry)
        return entries, bad

    def recent(self, after: int) -> bool:
        """Whether what follows `after` is read from memory (no disk access, no blocking)."""
        with self._recent_lock:
            first = next(iter(self._recent), None)
        return after >= self._head or (first is not None and first <= after + 1)

    def oldest(self) -> int:
        """The oldest retained seq (head + 1 when none is)."""
        with self._read_lock:
            row = self._reader.execute("SELECT min(seq) FROM events").fetchone()
        return int(row[0]) if row and row[0] is not None else self._head + 1

    def redact(self, names_learner: Callable[[bytes], bool]) -> int:
        """`redact_where`, and the same events redacted in the in-memory tail (a consumer that
        keeps up reads there, not from the file); how many were redacted."""
        seqs = self.redact_where(names_learner)
        with self._recent_lock:
            for seq in seqs:
                entry = self._recent.get(seq)
                if entry is not None:
                    body = redacted_body(entry.body)
                    self._recent[seq] = Entry(seq, entry.ingested_at, None, body, REDACTED)
                    self._recent_bytes += len(body) - len(entry.body)
        return len(seqs)

    def drop_recent(self) -> None:
        """Forget the in-memory tail: reads go to the file (after another process redacted)."""
        with self._recent_lock:
            self._recent.clear()
            self._recent_bytes = 0

    def query(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        """The rows of one read on the shared reading connection (for what delivery keeps in
        the journal's file: a connection each would cost an open per status poll)."""
        with self._read_lock:
            return self._reader.execute(sql, params).fetchall()

    def body(self, seq: int) -> bytes | None:
        with self._read_lock:
            row = self._reader.execute("SELECT body FROM events WHERE seq = ?", (seq,)).fetchone()
        return bytes(row[0]) if row else None

    def position(self, source: str) -> str | None:
        with self._read_lock:
            row = self._reader.execute(
                "SELECT position FROM positions WHERE source = ?", (source,)
            ).fetchone()
        return row[0] if row else None

    def positions(self) -> dict[str, str]:
        with self._read_lock:
            return dict(self._reader.execute("SELECT source, position FROM positions").fetchall())

    def seen(self, scope: str, keys: Sequence[str]) -> set[str]:
        """Which of `keys` were committed under `scope` (see `submit`'s `seen`)."""
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ",".join("?" * len(chunk))
            with self._read_lock:
                rows = self._reader.execute(
                    f"SELECT key FROM seen WHERE scope = ? AND key IN ({marks})", (scope, *chunk)
                ).fetchall()
            found.update(row[0] for row in rows)
        return found

    def cursor(self, consumer: str) -> int | None:
        found = self.cursor_at(consumer)
        return None if found is None else found[0]

    def cursor_at(self, consumer: str) -> tuple[int, float] | None:
        """A consumer's cursor and when it last moved (epoch seconds), None if it has none."""
        with self._read_lock:
            row = self._reader.execute(
                "SELECT seq, updated_at FROM cursors WHERE consumer = ?", (consumer,)
            ).fetchone()
        return (int(row[0]), float(row[1])) if row else None

    def cursors(self) -> dict[str, int]:
        with self._read_lock:
            return dict(self._reader.execute("SELECT consumer, seq FROM cursors").fetchall())

    def seq_before(self, moment: float) -> int:
        """The last seq accepted before `moment` (epoch seconds): where a new consumer starts."""
        with self._read_lock:
            self._reader.execute("BEGIN")  # one snapshot for the whole search
            try:
                first = first_since(self._reader, moment)
            finally:
                self._reader.execute("COMMIT")
        return self._head if first is None else first - 1

    def pending(self, after: int) -> int:
        """How many retained events have seq > after (a consumer's lag)."""
        with self._read_lock:
            row = self._reader.execute("SELECT count(*) FROM events WHERE seq > ?", (after,))
            return int(row.fetchone()[0])

    def size(self) -> tuple[int, int]:
        """(retained events, bytes on disk)."""
        with self._read_lock:
            count = self._reader.execute("SELECT count(*) FROM events").fetchone()[0]
        files = [self.path, self.path.with_name(self.path.name + "-wal")]
        return int(count), sum(f.stat().st_size for f in files if f.exists())

    def close(self) -> None:
        self._queue.put(None)
        self._writer.join(timeout=10)
        self._reader.close()
