"""The journal's schema migrations, and the look-ups by arrival time that replaced its index."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from event_router.journal import SqliteJournal, schema
from event_router.journal.housekeeping import first_since
from event_router.journal.schema import VERSION, JournalVersionError, migrate
from tests.concurrency import failures_together

# The layout written by releases before the journal recorded a schema version (session 1's).
_LEGACY = """
CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, body BLOB NOT NULL,
    ingested_at REAL NOT NULL);
CREATE INDEX events_ingested_at ON events (ingested_at);
CREATE TABLE positions (source TEXT PRIMARY KEY, position TEXT NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE cursors (consumer TEXT PRIMARY KEY, seq INTEGER NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta (key, value) VALUES ('schema', '1');
"""


def body(i: int) -> bytes:
    return orjson.dumps({"name": "play_video", "timestamp": "2020-07-15T06:52:55+00:00", "i": i})


def objects(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}


def test_a_new_journal_is_at_the_current_version(tmp_path: Path) -> None:
    SqliteJournal(tmp_path / "j.db").close()
    with sqlite3.connect(tmp_path / "j.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == VERSION
    assert {"events", "positions", "cursors", "status", "seen"} <= objects(tmp_path / "j.db")
    assert "events_ingested_at" not in objects(tmp_path / "j.db")


def test_a_legacy_journal_is_migrated_and_keeps_its_events(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(_LEGACY)
        conn.executemany(
            "INSERT INTO events (body, ingested_at) VALUES (?, ?)",
            [(body(i), 1000.0 + i) for i in range(5)],
        )
        conn.execute("INSERT INTO cursors VALUES ('lrs', 2, 0)")
        conn.execute("INSERT INTO positions VALUES ('log', '123', 0)")
    journal = SqliteJournal(path)
    entries, bad = journal.read(0, 10)
    assert bad == [] and [orjson.loads(e.body)["i"] for e in entries] == [0, 1, 2, 3, 4]
    assert journal.cursor("lrs") == 2 and journal.position("log") == "123"
    assert journal.seq_before(1002.5) == 3
    asyncio.run(journal.append([body(5)], ("log", "456"), names=["play_video"]))
    assert journal.head == 6
    journal.close()
    assert "meta" not in objects(path) and "events_ingested_at" not in objects(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM events WHERE seq = 6").fetchone()[0] == "play_video"


def test_a_journal_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    SqliteJournal(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {VERSION + 1}")
    with pytest.raises(JournalVersionError, match="newer than this event-router"):
        SqliteJournal(path)


def test_a_failed_migration_leaves_the_old_version_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Step 1 runs, step 2 fails (a full disk, say): nothing of step 1 stays, the version holds."""

    def fails(conn: sqlite3.Connection) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(schema, "MIGRATIONS", (schema.MIGRATIONS[0], fails))
    monkeypatch.setattr(schema, "VERSION", 2)
    path = tmp_path / "j.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(_LEGACY)
    conn = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="disk is full"):
        migrate(conn)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    assert "meta" in objects(path) and "status" not in objects(path)
    conn.close()


def _journal_with_times(path: Path, times: list[float]) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn)
    conn.executemany(
        "INSERT INTO events (body, ingested_at) VALUES (x'7b7d', ?)", [(t,) for t in times]
    )
    return conn


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(st.sampled_from([0.0, 0.5, 1.0, 3.0]), max_size=60),
    holes=st.sets(st.integers(1, 60), max_size=20),
    trimmed=st.integers(0, 30),
    moment=st.floats(-2, 130),
)
def test_first_since_equals_a_scan(
    tmp_path_factory: pytest.TempPathFactory,
    steps: list[float],
    holes: set[int],
    trimmed: int,
    moment: float,
) -> None:
    """Bisecting on seq finds what a full scan finds, whatever gaps deletes have left."""
    times, clock = [], 0.0
    for step in steps:
        clock += step
        times.append(clock)
    conn = _journal_with_times(tmp_path_factory.mktemp("j") / "j.db", times)
    conn.execute("DELETE FROM events WHERE seq <= ?", (trimmed,))
    conn.executemany("DELETE FROM events WHERE seq = ?", [(h,) for h in holes])
    scan = conn.execute("SELECT min(seq) FROM events WHERE ingested_at >= ?", (moment,))
    assert first_since(conn, moment) == scan.fetchone()[0]
    conn.close()


def test_trim_by_time_and_cursor(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.db")
    journal.close()
    conn = _journal_with_times(tmp_path / "j.db", [float(t) for t in range(100)])
    conn.close()
    journal = SqliteJournal(tmp_path / "j.db")
    assert journal.trim(below=80, older_than=50.0) == 50  # the window keeps 51..80
    assert journal.trim(below=30, older_than=99.5) == 0  # the cursor keeps everything left
    assert journal.trim(below=60, older_than=99.5) == 10
    assert journal.size()[0] == 40 and journal.seq_before(75.0) == 75
    journal.close()


def _times_after_appending_to(path: Path, last: float) -> list[float]:
    conn = _journal_with_times(path, [last])
    conn.close()
    journal = SqliteJournal(path)
    asyncio.run(journal.append([body(1), body(2)]))
    journal.close()
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT ingested_at FROM events ORDER BY seq")]


def test_a_clock_stepped_back_a_little_is_not_followed(tmp_path: Path) -> None:
    """NTP stepping the clock back must not break the order the time look-ups rely on."""
    ahead = time.time() + 30
    assert _times_after_appending_to(tmp_path / "j.db", ahead) == [ahead] * 3


def test_a_clock_far_off_is_not_kept_forever(tmp_path: Path) -> None:
    """One event stamped in 2096 by a bad clock must not freeze every later arrival time."""
    times = _times_after_appending_to(tmp_path / "j.db", 4_000_000_000.0)
    assert times[0] == 4_000_000_000.0 and abs(times[1] - time.time()) < 60


def test_the_cli_refuses_a_newer_journal_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    SqliteJournal(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {VERSION + 1}")
    result = subprocess.run(
        [sys.executable, "-m", "event_router", "status"],
        env={**os.environ, "EVENT_ROUTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: the journal is at schema version")
    assert "Traceback" not in result.stderr


def test_concurrent_first_opens_of_a_new_journal_all_succeed(tmp_path: Path) -> None:
    """A router and CLI commands may open a new home at the same moment: each open migrates or
    finds it migrated, and the switch to WAL mode (which SQLite refuses at once, without waiting,
    while another connection makes it) is retried."""
    for attempt in range(20):
        path = tmp_path / f"j{attempt}.db"
        assert failures_together(partial(_open_and_close, path)) == [], attempt
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == VERSION
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _open_and_close(path: Path) -> None:
    SqliteJournal(path).close()
