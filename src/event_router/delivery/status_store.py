"""The engine's status snapshots on a SQLite journal, kept in the journal's file.

The running router writes each consumer's figures every poll; `event-router status` reads them
(a snapshot's age tells a router killed from one running), and a router started again goes on
from its last run's figures. The `status` table is created with the journal's schema
(`journal.schema`); what is in it, and when, is delivery's.
"""

from __future__ import annotations

import time
from contextlib import closing

from event_router.journal import SqliteJournal


class StatusStore:
    """The `status` table of one SQLite journal: a snapshot (JSON bytes) per consumer."""

    def __init__(self, journal: SqliteJournal) -> None:
        self.journal = journal

    def write(self, snapshots: dict[str, bytes]) -> None:
        """Replace these consumers' snapshots (a commit: call it off the event loop)."""
        now = time.time()
        with closing(self.journal.connect()) as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO status (consumer, snapshot, updated_at) VALUES (?,?,?)",
                [(name, snap, now) for name, snap in snapshots.items()],
            )

    def read(self) -> dict[str, tuple[bytes, float]]:
        """Every snapshot, with when it was written (epoch seconds), by consumer."""
        rows = self.journal.query("SELECT consumer, snapshot, updated_at FROM status")
        return {name: (bytes(snap), at) for name, snap, at in rows}
