"""The journal file's schema, as numbered migrations recorded in SQLite's `user_version`.

The journal is the one file that holds accepted events, so it is never rebuilt: a router opening
a journal written by an older version brings it forward step by step, all steps in one
transaction (SQLite's DDL is transactional, and so is `user_version`) taken with the write lock,
so a crash leaves the old version whole and two processes opening one file do not both migrate.
A journal written by a newer version is refused with a clear error rather than misread. The
control plane, a SQLAlchemy database that may live on PostgreSQL, has Alembic migrations
(`store/migrations`); the journal is local, hot and SQLite-only, so its steps are plain SQL here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable


class JournalVersionError(RuntimeError):
    """The journal file was written by a newer event-router than this one."""


def _initial(conn: sqlite3.Connection) -> None:
    """Version 1: the layout of the first releases. Files made before versions were recorded
    already have these tables (some without the `name` column), hence IF NOT EXISTS."""
    for statement in (
        "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        " body BLOB NOT NULL, ingested_at REAL NOT NULL, name TEXT)",
        "CREATE INDEX IF NOT EXISTS events_ingested_at ON events (ingested_at)",
        "CREATE TABLE IF NOT EXISTS positions (source TEXT PRIMARY KEY, position TEXT NOT NULL,"
        " updated_at REAL NOT NULL)",
        "CREATE TABLE IF NOT EXISTS cursors (consumer TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
        " updated_at REAL NOT NULL)",
        "CREATE TABLE IF NOT EXISTS status (consumer TEXT PRIMARY KEY, snapshot BLOB NOT NULL,"
        " updated_at REAL NOT NULL)",
        "CREATE TABLE IF NOT EXISTS seen (scope TEXT NOT NULL, key TEXT NOT NULL,"
        " seen_at REAL NOT NULL, PRIMARY KEY (scope, key))",
    ):
        conn.execute(statement)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(events)")}
    if "name" not in columns:
        conn.execute("ALTER TABLE events ADD COLUMN name TEXT")


def _no_time_index(conn: sqlite3.Connection) -> None:
    """Version 2: drop the index on `ingested_at` (every append paid for it; arrival times rise
    with seq, so look-ups by time bisect on the primary key instead) and the old `meta` table,
    whose schema number `user_version` replaces."""
    conn.execute("DROP INDEX IF EXISTS events_ingested_at")
    conn.execute("DROP TABLE IF EXISTS meta")


def _rewinds(conn: sqlite3.Connection) -> None:
    """Version 3: operators' requests to move a consumer's cursor back (`consumers rewind`)."""
    conn.execute(
        "CREATE TABLE rewinds (consumer TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
        " requested_at REAL NOT NULL)"
    )


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _initial,
    _no_time_index,
    _rewinds,
)
VERSION = len(MIGRATIONS)


def version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the journal on `conn` (autocommit mode) to `VERSION`; returns the version it had."""
    found = version(conn)
    if found > VERSION:
        raise JournalVersionError(
            f"the journal is at schema version {found}, newer than this event-router knows "
            f"({VERSION}): run the newer event-router, or restore a journal from this version"
        )
    if found == VERSION:
        return found
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = version(conn)  # another process may have migrated while we waited
        for number in range(current + 1, VERSION + 1):
            MIGRATIONS[number - 1](conn)
            conn.execute(f"PRAGMA user_version = {number}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return found
