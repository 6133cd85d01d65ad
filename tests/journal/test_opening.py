"""Opening the journal the settings name: its kind from EVENT_ROUTER_JOURNAL, a SQLite journal
created only when asked, and one error type for every refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from event_router.journal import SqliteJournal
from event_router.journal.opening import JournalUnopened, journal_kind, open_journal
from event_router.settings import Settings


def config(home: Path, journal: str | None = None) -> Settings:
    return Settings(home=home, **{"EVENT_ROUTER_JOURNAL": journal})  # type: ignore[arg-type]


def test_the_kind_is_read_from_the_url(tmp_path: Path) -> None:
    assert journal_kind(config(tmp_path)) == "sqlite"
    for url in ("redis://127.0.0.1:6379/0", "rediss://h:6380/0", "unix:///tmp/redis.sock"):
        assert journal_kind(config(tmp_path, url)) == "redis"
    assert journal_kind(config(tmp_path, "kafka://127.0.0.1:9092/x")) == "kafka"


def test_a_sqlite_journal_is_created_only_when_asked(tmp_path: Path) -> None:
    with pytest.raises(JournalUnopened, match="no journal in") as refused:
        open_journal(config(tmp_path))
    assert refused.value.missing
    assert not (tmp_path / "journal.db").exists()
    created = open_journal(config(tmp_path), existing=False)
    assert isinstance(created, SqliteJournal)
    created.close()
    opened = open_journal(config(tmp_path))
    assert isinstance(opened, SqliteJournal)
    opened.close()


def test_an_unreachable_redis_journal_is_refused_as_such(tmp_path: Path) -> None:
    url = f"unix://{tmp_path / 'no-redis.sock'}"
    with pytest.raises(JournalUnopened, match="not reachable") as refused:
        open_journal(config(tmp_path, url))
    assert not refused.value.missing
