"""`event-router status` from a home: figures of the router's last snapshot, and how old it is."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import orjson

from event_router.delivery.status_store import StatusStore
from event_router.journal import SqliteJournal
from event_router.routing.consumer import Consumer
from event_router.store import Store
from tests.cli.conftest import Invoke


def test_a_killed_router_s_last_state_is_not_shown_as_current(
    cli: Invoke, home: Path, store_url: str
) -> None:
    with Store.open(store_url) as store:
        store.consumers.add(Consumer(name="lrs", url="http://127.0.0.1:9/x"))
        store.consumers.add(Consumer(name="done", url="http://127.0.0.1:9/x"))
    journal = SqliteJournal(home / "journal.db")
    journal.submit(
        [b'{"name": "a", "time": "2024-01-01T00:00:00Z"}'] * 3, None, {"lrs": 1}
    ).result()
    StatusStore(journal).write(
        {
            "lrs": orjson.dumps({"state": "running", "delivered": 1}),
            "done": orjson.dumps({"state": "stopped", "delivered": 0}),
        }
    )
    journal.close()
    fresh = json.loads(cli("status", "--json").stdout)["consumers"]
    assert fresh["lrs"]["state"] == "running" and fresh["lrs"]["pending"] == 2
    with sqlite3.connect(home / "journal.db") as conn:  # as if written a minute ago, then kill -9
        conn.execute("UPDATE status SET updated_at = ?", (time.time() - 60,))
    old = json.loads(cli("status", "--json").stdout)["consumers"]
    assert old["lrs"]["state"] == "not running (was running)"
    assert old["done"]["state"] == "stopped"  # a clean stop says so itself


def test_piped_status_keeps_every_row_whole_on_one_line(home: Path, store_url: str) -> None:
    """Written to a pipe, rich used to squeeze the table into 80 columns: the long consumer name
    and its error were cut or wrapped over several lines."""
    name = "lrs-of-the-university-of-somewhere-far-away"
    error = "HTTP 503 from https://lrs.example.org/xapi/statements: Service Unavailable, retrying"
    with Store.open(store_url) as store:
        store.consumers.add(Consumer(name=name, url="http://127.0.0.1:9/x"))
    journal = SqliteJournal(home / "journal.db")
    snapshot = {"state": "retrying", "delivered": 7, "last_error": error}
    StatusStore(journal).write({name: orjson.dumps(snapshot)})
    journal.close()
    done = subprocess.run(
        [sys.executable, "-m", "event_router", "status"],
        stdout=subprocess.PIPE,
        check=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "COLUMNS"},  # as in a cron job
    )
    rows = [row for row in done.stdout.splitlines() if name in row]
    assert len(rows) == 1, done.stdout
    assert "retrying" in rows[0] and "7" in rows[0] and error[:80] in rows[0]
