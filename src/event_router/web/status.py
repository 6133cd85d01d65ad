"""The per-consumer part of `/api/v1/status`: the engine's live figures joined with the store.

The engine only knows consumers it runs; the dashboard also wants those just added (not started
yet), disabled ones, and the dead letters still waiting for an operator, which live in the store.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from event_router.store import State, Store


def _from_store(store: Store) -> list[tuple[Any, int]]:
    records = store.consumers.records()
    return [(r, store.dead_letters.count(r.consumer.name, State.DEAD)) for r in records]


async def consumer_status(
    store: Store, snapshots: dict[str, dict[str, Any]], engine_running: bool
) -> dict[str, dict[str, Any]]:
    """Every stored consumer: configuration summary, live figures, open dead letters.

    Call on the event loop: `snapshots` must have been taken there (the engine's counters are not
    shared with threads); the store is read in a worker thread.
    """
    rows = await run_in_threadpool(_from_store, store)
    out: dict[str, dict[str, Any]] = {}
    for record, open_letters in rows:
        consumer = record.consumer
        snapshot = dict(snapshots.get(consumer.name) or {})
        if not snapshot:  # the engine has not seen it (yet): say so rather than guess
            if not consumer.enabled:
                snapshot["state"] = "disabled"
            else:
                snapshot["state"] = "starting" if engine_running else "not running"
        out[consumer.name] = {
            **snapshot,
            "enabled": consumer.enabled,
            "protocol": consumer.protocol.value,
            "sink": consumer.sink,
            "pending": snapshot.get("lag"),
            "dead_letters_open": open_letters,
        }
    return out
