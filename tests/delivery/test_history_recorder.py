"""The recorder turns the engine's growing counters into one row per minute: the minute's
differences, the lag then, and the percentiles of the latencies observed in the minute."""

from __future__ import annotations

from pathlib import Path

from event_router.delivery.history import Recorder
from event_router.delivery.stats import Stats
from event_router.store import Store
from event_router.store.history import ROUTER

T0 = 1_780_000_020.0  # a whole minute (divisible by 60)


def test_rows_hold_each_minutes_differences(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'c.db'}") as store:
        recorder = Recorder(store, "local")
        lrs = Stats.carried_over({"delivered": 1000, "retries": 7})  # an earlier run's totals
        stats = {"lrs": lrs}
        assert (
            recorder.take(stats, lambda: {"lrs": 0}, 500, T0 + 1) is None
        )  # the first minute starts
        lrs.delivered += 30
        lrs.events += 25
        lrs.retries += 2
        lrs.error("503 Service Unavailable")
        lrs.latencies.record(T0 + 30, [T0 + 29.99] * 20 + [T0 + 29.0] * 10)
        assert recorder.take(stats, lambda: {"lrs": 4}, 540, T0 + 59) is None  # same minute
        rows = recorder.take(stats, lambda: {"lrs": 4}, 540, T0 + 61)
        assert rows is not None
        point = rows["lrs"]
        assert point.ts == T0
        assert (point.delivered, point.events, point.retries, point.errors) == (30, 25, 2, 1)
        assert point.lag == 4 and point.samples == 30
        assert point.p50_ms == 10.0 and point.p99_ms == 1000.0
        assert rows[ROUTER].ingested == 40 and rows[ROUTER].delivered == 30
        assert rows[ROUTER].lag == 4

        # The next minute counts only what came after; a new consumer is measured from now.
        lrs.delivered += 5
        stats["new"] = Stats.carried_over({"delivered": 99})
        rows = recorder.take(stats, lambda: {"lrs": 0, "new": None}, 540, T0 + 125)
        assert rows is not None
        assert rows["lrs"].delivered == 5 and rows["lrs"].samples == 0
        assert rows["lrs"].p50_ms is None
        assert rows["new"].delivered == 0
        assert rows[ROUTER].ingested == 0

        recorder.write(rows, housekeep=False)
        found = store.history.series(["lrs", ROUTER], int(T0), int(T0) + 300)
        assert [p.delivered for p in found["lrs"]] == [5]


def test_a_watched_consumer_counts_from_when_its_figures_were_made(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'c.db'}") as store:
        recorder = Recorder(store, "local")
        lrs = Stats.carried_over({"delivered": 40})
        recorder.watch("lrs", lrs, 100, T0 + 2)  # as the engine makes them, before delivering
        lrs.delivered += 6  # delivered before the engine's first tick
        assert recorder.take({"lrs": lrs}, lambda: {"lrs": 0}, 106, T0 + 3) is None
        rows = recorder.take({"lrs": lrs}, lambda: {"lrs": 0}, 106, T0 + 60)
        assert rows is not None
        assert rows["lrs"].delivered == 6 and rows[ROUTER].ingested == 6
