"""Putting an SQLite database in WAL mode when several connections open it for the first time.

Both SQLite files of a home (the journal and the control plane) run in WAL mode, which a new
file takes once and keeps. Switching needs the file to itself, and SQLite reports a concurrent
first open as "database is locked" at once instead of waiting its busy timeout: a router and a
CLI command (or four threads) opening a new home together would then fail at random. So the
switch is retried for a while, and skipped when another connection has already made it.
"""

from __future__ import annotations

import random
import sqlite3
import time
from typing import Any

_PATIENCE = 30.0  # seconds, as the busy timeout


def use_wal(conn: Any) -> None:
    """Put the database of `conn` (a sqlite3 connection or cursor) in WAL mode."""
    deadline = time.monotonic() + _PATIENCE
    while True:
        try:
            if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
                return
            conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(random.uniform(0.005, 0.05))
