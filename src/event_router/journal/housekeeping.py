"""What is done to the SQLite journal besides appending and reading: status snapshots, trimming,
forgetting old idempotency keys, an operator's rewinds of a consumer's cursor, and redacting a
forgotten learner's events.

Each runs on a connection of its own, off the writer thread, so none of it holds up ingest: a
trim may delete a minute of events, a status write is a commit. `SqliteJournal` inherits these.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import closing

from event_router.journal.entry import REDACTED, redacted_body


class Housekeeping:
    """Mixed into `SqliteJournal`, whose connections these use."""

    _reader: sqlite3.Connection
    _read_lock: threading.Lock

    def _connect(self) -> sqlite3.Connection:
        raise NotImplementedError

    # -- status snapshots (written by the running router, read by `event-router status`) --

    def write_status(self, snapshots: dict[str, bytes]) -> None:
        now = time.time()
        with closing(self._connect()) as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO status (consumer, snapshot, updated_at) VALUES (?,?,?)",
                [(name, snap, now) for name, snap in snapshots.items()],
            )

    def read_status(self) -> dict[str, tuple[bytes, float]]:
        with self._read_lock:
            rows = self._reader.execute("SELECT consumer, snapshot, updated_at FROM status")
            return {name: (bytes(snap), at) for name, snap, at in rows.fetchall()}

    # -- retention --

    def trim(self, below: int, older_than: float) -> int:
        """Delete events with seq <= below that arrived before `older_than` (epoch seconds)."""
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            first = first_since(conn, older_than)
            limit = below if first is None else min(below, first - 1)
            trimmed = conn.execute("DELETE FROM events WHERE seq <= ?", (limit,)).rowcount
            conn.execute("COMMIT")
            return trimmed

    def forget_seen(self, scope: str, keep: int) -> int:
        """Drop all but the newest `keep` keys of `scope`; returns how many were dropped."""
        with closing(self._connect()) as conn:
            cur = conn.execute(
                "DELETE FROM seen WHERE scope = ? AND rowid < (SELECT rowid FROM seen "
                "WHERE scope = ? ORDER BY rowid DESC LIMIT 1 OFFSET ?)",
                (scope, scope, max(0, keep - 1)),
            )
            return cur.rowcount

    # -- rewinds: an operator asks for a consumer to receive again what it already had --

    def request_rewind(self, consumer: str, seq: int) -> None:
        """Ask the router to move `consumer`'s cursor back to `seq`. The running router does
        it between two batches (a cursor moved under a running delivery would be moved forward
        again by its next acknowledgement); a router started later does it before delivering."""
        with closing(self._connect()) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO rewinds (consumer, seq, requested_at) VALUES (?,?,?)",
                (consumer, seq, time.time()),
            )

    def rewinds(self) -> dict[str, int]:
        """The rewinds asked for and not done yet, by consumer."""
        with self._read_lock:
            return dict(self._reader.execute("SELECT consumer, seq FROM rewinds").fetchall())

    def apply_rewind(self, consumer: str) -> int | None:
        """Move the cursor to the requested seq (back, unlike a delivery's moves) and forget
        the request, in one transaction; the new cursor, or None if nothing was asked."""
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute("SELECT seq FROM rewinds WHERE consumer = ?", (consumer,))
            found = row.fetchone()
            if found is not None:
                conn.execute(
                    "INSERT INTO cursors (consumer, seq, updated_at) VALUES (?,?,?) "
                    "ON CONFLICT(consumer) DO UPDATE SET seq=excluded.seq, "
                    "updated_at=excluded.updated_at",
                    (consumer, found[0], time.time()),
                )
                conn.execute("DELETE FROM rewinds WHERE consumer = ?", (consumer,))
            conn.execute("COMMIT")
            return None if found is None else int(found[0])

    # -- privacy: a learner forgotten --

    def redact_where(self, names_learner: Callable[[bytes], bool]) -> list[int]:
        """Redact in place, in one transaction, every retained event whose body
        `names_learner`: the body becomes an empty event of the same time (no learner, no
        payload) named `REDACTED`, which no consumer receives. Seqs, cursors and the order stay
        as they were (a deleted row would leave a hole a cursor might be waiting on); the seqs
        redacted are returned."""
        done: list[int] = []
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                after = 0
                while True:
                    rows = conn.execute(
                        "SELECT seq, body FROM events WHERE seq > ? AND name IS NOT ? "
                        "ORDER BY seq LIMIT 2000",
                        (after, REDACTED),
                    ).fetchall()
                    if not rows:
                        break
                    after = rows[-1][0]
                    hits = [(seq, bytes(body)) for seq, body in rows if names_learner(bytes(body))]
                    conn.executemany(
                        "UPDATE events SET body = ?, name = ? WHERE seq = ?",
                        [(redacted_body(body), REDACTED, seq) for seq, body in hits],
                    )
                    done += [seq for seq, _ in hits]
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return done


def first_since(conn: sqlite3.Connection, moment: float) -> int | None:
    """The first retained seq that arrived at or after `moment`, None if none did.

    Arrival times rise with seq (the writer does not follow a clock stepped back by less than a
    minute), so this bisects on the primary key: some 30 look-ups, where an index on the time
    cost every append. After a bigger step back it is approximate around that step.
    """
    low, high = conn.execute("SELECT min(seq), max(seq) FROM events").fetchone()
    if high is None or _at_or_after(conn, high)[1] < moment:
        return None
    found = int(high)
    while low <= high:
        middle = (low + high) // 2
        seq, at = _at_or_after(conn, middle)
        if seq > high:  # no rows between middle and high
            high = middle - 1
        elif at >= moment:
            found, high = seq, middle - 1
        else:
            low = seq + 1
    return found


def _at_or_after(conn: sqlite3.Connection, seq: int) -> tuple[int, float]:
    row = conn.execute(
        "SELECT seq, ingested_at FROM events WHERE seq >= ? ORDER BY seq LIMIT 1", (seq,)
    ).fetchone()
    return int(row[0]), float(row[1])
