"""Per-file, per-consumer checkpoints of a backfill, in `<home>/backfill/checkpoints.db`.

A checkpoint says "every line of this file up to `line` reached this consumer" (delivered,
dead-lettered, or not for it). It is written only after the batches covering those lines settled,
so an interrupted backfill resumes there; anything sent again after a crash is a duplicate the
LRS ignores (ids are deterministic). A file is recognised by its name and the first bytes of its
content, so a log rotated under the same name is not mistaken for the one read before.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from event_router.home import private_file
from event_router.reading import digest
from event_router.walmode import use_wal

_SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoints (
    consumer TEXT NOT NULL,
    input TEXT NOT NULL,
    head_length INTEGER NOT NULL,
    head_sha1 TEXT NOT NULL,
    line INTEGER NOT NULL,
    done INTEGER NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (consumer, input)
);
"""


class Busy(RuntimeError):
    """Another backfill holds this home's checkpoints."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    line: int  # lines of the file fully handled for the consumer (a line count, from the top)
    done: bool  # the whole file was


class Checkpoints:
    """The checkpoint table; one backfill at a time per home (an exclusive lock file)."""

    def __init__(self, home: Path, *, read_only: bool = False) -> None:
        self.read_only = read_only
        self._pending: dict[tuple[str, str], tuple[int, str, int, bool]] = {}
        self._last_flush = time.monotonic()
        self._forgotten: set[tuple[str, str]] = set()
        self._lock: IO[str] | None = None
        self._db: sqlite3.Connection | None = None
        if read_only:  # a dry run: read what exists, take no lock, create and write nothing
            path = home / "backfill" / "checkpoints.db"
            self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True) if path.exists() else None
            return
        folder = home / "backfill"
        private_file(folder / "lock")
        private_file(folder / "checkpoints.db")
        self._lock = open(folder / "lock", "a+")  # noqa: SIM115 - held until close()
        try:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise Busy(f"another backfill is running with the home {home}") from None
        self._lock.seek(0)
        self._lock.truncate()
        self._lock.write(f"{os.getpid()}\n")
        self._lock.flush()
        self._db = sqlite3.connect(folder / "checkpoints.db", isolation_level=None)
        use_wal(self._db)
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def get(self, consumer: str, name: str, head: bytes) -> Checkpoint | None:
        """The consumer's checkpoint for the file, if the file still starts as it did then."""
        if self._db is None or (consumer, name) in self._forgotten:
            return None
        row = self._db.execute(
            "SELECT head_length, head_sha1, line, done FROM checkpoints "
            "WHERE consumer = ? AND input = ?",
            (consumer, name),
        ).fetchone()
        if row is None:
            return None
        length, sha1, line, done = row
        if len(head) < length or digest(head[:length]) != sha1:
            return None  # a different file under the same name
        return Checkpoint(int(line), bool(done))

    def save(self, consumer: str, name: str, head: bytes, line: int, done: bool) -> None:
        """Record progress (written out at most every second, and by `flush`)."""
        if self.read_only:
            return
        self._pending[(consumer, name)] = (len(head), digest(head), line, done)
        if time.monotonic() - self._last_flush >= 1.0:
            self.flush()

    def flush(self) -> None:
        if self._pending and self._db is not None:
            rows = [
                (consumer, name, length, sha1, line, int(done), time.time())
                for (consumer, name), (length, sha1, line, done) in self._pending.items()
            ]
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO checkpoints (consumer, input, head_length, head_sha1, line, done, "
                "updated_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT (consumer, input) DO UPDATE SET "
                "head_length=excluded.head_length, head_sha1=excluded.head_sha1, "
                "line=excluded.line, done=excluded.done, updated_at=excluded.updated_at",
                rows,
            )
            self._db.execute("COMMIT")
            self._pending.clear()
        self._last_flush = time.monotonic()

    def forget(self, consumers: list[str], names: list[str]) -> int:
        """Drop the checkpoints of these consumers for these files (`--restart`)."""
        if self._db is None or self.read_only:
            self._forgotten.update((c, n) for c in consumers for n in names)  # in memory only
            return 0
        count = 0
        for consumer in consumers:
            for name in names:
                cursor = self._db.execute(
                    "DELETE FROM checkpoints WHERE consumer = ? AND input = ?", (consumer, name)
                )
                count += cursor.rowcount
        return count

    def close(self) -> None:
        try:
            self.flush()
        finally:
            if self._db is not None:
                self._db.close()
            if self._lock is not None:
                self._lock.close()
