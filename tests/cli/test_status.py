"""`event-router status` from a home: figures of the router's last snapshot, and how old it is."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import orjson

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
    journal.write_status(
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
