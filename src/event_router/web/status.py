"""The per-consumer part of `/api/v1/status`: the engine's live figures joined with the store.

The engine only knows consumers it runs; the dashboard also wants those just added (not started
yet), disabled ones (whose backlog still grows in the journal), and the dead letters still
waiting for an operator, which live in the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool

from event_router.store import State, Store


def _from_store(store: Store, journal: Any) -> tuple[list[tuple[Any, int]], dict[str, int]]:
    records = store.consumers.records()
    letters = [(r, store.dead_letters.count(r.consumer.name, State.DEAD)) for r in records]
    # A journal that keeps per-consumer cursors (SQLite) tells a stopped consumer's backlog too.
    cursors = getattr(journal, "cursors", None)
    return letters, (cursors() if callable(cursors) else {})


def error_resolved(snapshot: Mapping[str, Any]) -> bool:
    """Whether deliveries succeeded after the last error: the error is then history, not news."""
    error_at, delivered_at = snapshot.get("last_error_at"), snapshot.get("last_delivery_at")
    return bool(error_at and delivered_at and delivered_at > error_at)


def rejected_lines(source_counts: Mapping[str, Mapping[str, int]]) -> int:
    """Lines of tracking logs and bus messages refused as malformed, over every source."""
    return sum(
        int(counts.get("rejected", 0)) + int(counts.get("malformed", 0))
        for counts in source_counts.values()
    )


async def consumer_status(
    store: Store,
    snapshots: dict[str, dict[str, Any]],
    engine_running: bool,
    journal: Any = None,
) -> dict[str, dict[str, Any]]:
    """Every stored consumer: configuration summary, live figures, open dead letters.

    `pending` is in journal events (its backlog); a consumer that is not delivering (disabled,
    or not started) gets it from its stored cursor when `journal` keeps cursors, else None.
    Call on the event loop: `snapshots` must have been taken there (the engine's counters are not
    shared with threads); the store is read in a worker thread.
    """
    rows, cursors = await run_in_threadpool(_from_store, store, journal)
    head = int(journal.head) if journal is not None else 0
    out: dict[str, dict[str, Any]] = {}
    for record, open_letters in rows:
        consumer = record.consumer
        snapshot = dict(snapshots.get(consumer.name) or {})
        if not snapshot:  # the engine has not seen it (yet): say so rather than guess
            if not consumer.enabled:
                snapshot["state"] = "disabled"
            else:
                snapshot["state"] = "starting" if engine_running else "not running"
        pending = snapshot.get("lag")
        if pending is None and consumer.name in cursors:
            pending = max(0, head - cursors[consumer.name])
        out[consumer.name] = {
            **snapshot,
            "enabled": consumer.enabled,
            "protocol": consumer.protocol.value,
            "sink": consumer.sink,
            "pending": pending,
            "last_error_resolved": error_resolved(snapshot),
            "dead_letters_open": open_letters,
        }
    return out
