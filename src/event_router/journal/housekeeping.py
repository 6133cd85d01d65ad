"""The SQLite journal's upkeep besides appending and reading: trimming, forgetting old
idempotency keys, and redacting a forgotten learner's events.

Each runs on a connection of its own, off the writer thread, so none of it holds up ingest: a
trim may delete a minute of events. `SqliteJournal` inherits these. What delivery keeps in the
journal's file (status snapshots, rewind requests) is delivery's: `delivery.status_store`,
`delivery.rewind`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing

from event_router.journal.entry import REDACTED, redacted_body


class Housekeeping:
    """Mixed into `SqliteJournal`, whose connections these use."""

    def connect(self) -> sqlite3.Connection:
        raise NotImplementedError

    # -- retention --

    def trim(self, below: int, older_than: float) -> int:
        """Delete events with seq <= below that arrived before `older_than` (epoch seconds)."""
        with closing(self.connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            first = first_since(conn, older_than)
            limit = below if first is None else min(below, first - 1)
            trimmed = conn.execute("DELETE FROM events WHERE seq <= ?", (limit,)).rowcount
            conn.execute("COMMIT")
            return trimmed

    def forget_seen(self, scope: str, keep: int) -> int:
        """Drop all but the newest `keep` keys of `scope`; returns how many were dropped."""
        with closing(self.connect()) as conn:
            cur = conn.execute(
                "DELETE FROM seen WHERE scope = ? AND rowid < (SELECT rowid FROM seen "
                "WHERE scope = ? ORDER BY rowid DESC LIMIT 1 OFFSET ?)",
                (scope, scope, max(0, keep - 1)),
            )
            return cur.rowcount

    # -- privacy: a learner forgotten --

    def redact_where(self, names_learner: Callable[[bytes], bool]) -> list[int]:
        """Redact in place, in one transaction, every retained event whose body
        `names_learner`: the body becomes an empty event of the same time (no learner, no
        payload) named `REDACTED`, which no consumer receives. Seqs, cursors and the order stay
        as they were (a deleted row would leave a hole a cursor might be waiting on); the seqs
        redacted are returned."""
        done: list[int] = []
        with closing(self.connect()) as conn:
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
