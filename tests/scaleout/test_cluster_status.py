"""`event-router status` in scale-out mode: figures from every process heard from lately, the
state only from those still alive (a killed process's last `retrying` must not linger)."""

from __future__ import annotations

import time
from pathlib import Path

import orjson

from event_router.cli.status import collect_cluster
from event_router.routing.consumer import Consumer
from event_router.settings import Settings
from event_router.store import Store
from tests.support.databases import JournalRedis


def publish(journal: JournalRedis, member: str, age: float, state: str, delivered: int) -> None:
    snapshot = {"state": state, "delivered": delivered}
    payload = {"at": time.time() - age, "consumers": {"lrs": snapshot}, "privacy": {}}
    journal.client.hset(f"{journal.prefix}:status", member, orjson.dumps(payload))


def test_a_silent_process_s_figures_count_but_not_its_state(
    tmp_path: Path, journal_redis: JournalRedis
) -> None:
    store_url = f"sqlite:///{tmp_path / 'control.db'}"
    with Store.open(store_url) as store:
        store.consumers.add(Consumer(name="lrs", url="http://127.0.0.1:9/x"))
    config = Settings.model_validate(
        {
            "home": tmp_path,
            "database_url": store_url,
            "EVENT_ROUTER_JOURNAL": journal_redis.url,
            "journal_prefix": journal_redis.prefix,
        }
    )
    publish(journal_redis, "alive", 0.5, "running", 10)
    publish(journal_redis, "killed", 12.0, "retrying", 4)  # silent: its last word was a retry
    publish(journal_redis, "gone", 90.0, "paused", 100)  # long gone: counts for nothing

    report = collect_cluster(config)
    assert report["processes"] == ["alive", "killed"] and report["silent"] == ["killed"]
    row = report["consumers"]["lrs"]
    assert row["state"] == "running" and row["delivered"] == 14 and row["processes"] == 2

    publish(journal_redis, "killed", 0.5, "retrying", 4)  # heard from again: its state counts
    report = collect_cluster(config)
    assert report["silent"] == [] and report["consumers"]["lrs"]["state"] == "retrying"
