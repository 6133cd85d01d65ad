"""Idempotency keys committed with the events they cover (what the bus source de-duplicates by)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from event_router.journal import JournalFull, SqliteJournal


def body(i: int) -> bytes:
    return orjson.dumps({"name": "x", "timestamp": "2024-01-01T00:00:00+00:00", "data": {"i": i}})


def test_keys_commit_with_events_and_survive_reopen(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.db")
    journal.submit([body(1), body(2)], ("bus:s", "1-0"), None, None, ("bus:s", ["a", "b"])).result()
    journal.submit([], None, None, None, ("other", ["c"])).result()
    assert journal.seen("bus:s", ["a", "b", "c", "z"]) == {"a", "b"}
    assert journal.seen("other", ["c"]) == {"c"}
    journal.close()
    again = SqliteJournal(tmp_path / "j.db")
    assert again.seen("bus:s", [f"k{i}" for i in range(1200)] + ["b"]) == {"b"}  # chunked IN
    assert again.head == 2 and again.position("bus:s") == "1-0"
    again.close()


def test_forget_keeps_the_newest(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.db")
    for i in range(10):
        journal.submit([], None, None, None, ("s", [f"k{i}"])).result()
    journal.submit([], None, None, None, ("t", ["keep-me"])).result()
    assert journal.forget_seen("s", 3) == 7
    assert journal.seen("s", [f"k{i}" for i in range(10)]) == {"k7", "k8", "k9"}
    assert journal.forget_seen("s", 3) == 0 and journal.seen("t", ["keep-me"]) == {"keep-me"}
    assert journal.forget_seen("nothing", 3) == 0
    journal.close()


def test_keys_and_events_commit_together_or_not_at_all(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.db")
    journal.submit([body(1)], None, None, None, ("s", ["a"])).result()
    broken: list[object] = ["b", object()]  # a key SQLite cannot bind: the transaction fails
    with pytest.raises(JournalFull):
        journal.submit([body(2)], ("s", "2-0"), None, None, ("s", broken)).result()  # type: ignore[arg-type]
    assert journal.seen("s", ["a", "b"]) == {"a"}
    assert journal.head == 1 and journal.position("s") is None
    journal.close()
