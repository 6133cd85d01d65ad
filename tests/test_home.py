"""Everything the router writes is private (dirs 0700, files 0600), whatever the umask."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from event_router.backfill.checkpoints import Checkpoints
from event_router.integrations.spool import Spool
from event_router.journal.sqlite import SqliteJournal
from event_router.routing.consumer import Consumer
from event_router.settings import Settings
from event_router.sinks.archive import LocalArchiveSink
from event_router.store import Store
from tests.peers.payloads import encode, send, statement


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The common default that made every file world-readable."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        if not path.is_symlink():
            found[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)
    return found


def loose(root: Path) -> dict[str, str]:
    return {
        name: oct(mode)
        for name, mode in modes(root).items()
        if mode != (0o700 if (root / name).is_dir() else 0o600)
    }


def test_every_file_the_router_creates_is_private(tmp_path: Path, open_umask: None) -> None:
    home = tmp_path / "home"
    config = Settings(home=home, secret_key=None)
    config.resolved_secret()
    journal = SqliteJournal(home / "journal.db")
    asyncio.run(journal.append([b'{"name": "x", "timestamp": "2024-01-01T00:00:00Z"}']))
    journal.close()
    with Store.from_settings(config) as store:
        store.consumers.add(Consumer(name="a", url="https://x.example/s", token="t", auth="bearer"))
        assert (home / "control.db-wal").exists()  # held open: the WAL is there to check
        Checkpoints(home).close()
        spool = Spool(home / "spool")
        spool.append([b"{}"])
        spool.rotate()
        sink = LocalArchiveSink(
            Consumer(name="w", protocol="xapi", sink="archive", url=str(home / "archive"))
        )
        send(sink, encode(statement()))
        names = set(modes(home))
        made = {"secret_key", "secret_key.id", "journal.db", "control.db", "control.db-wal"}
        assert made <= names
        assert any(name.startswith("archive/w/") and name.endswith(".gz") for name in names)
        assert any(name.startswith("spool/") for name in names)
        assert loose(home) == {}


def test_an_existing_spool_is_tightened_when_the_lms_starts(
    tmp_path: Path, open_umask: None
) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    (spool / "1-1.ndjson").write_bytes(b"{}\n")
    assert loose(spool)
    Spool(spool)
    assert loose(spool) == {}


def test_an_existing_home_is_tightened_at_start_up(tmp_path: Path, open_umask: None) -> None:
    home = tmp_path / "home"
    (home / "archive").mkdir(parents=True)
    (home / "archive" / "old.jsonl.gz").write_bytes(b"learners")
    (home / "journal.db").write_bytes(b"")
    home.chmod(0o755)
    assert loose(home)  # as an older version left it
    Settings(home=home, secret_key=None).resolved_secret()
    assert loose(home) == {}
