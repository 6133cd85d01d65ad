"""History in the control plane (SQLite and PostgreSQL): written a minute at a time by each
process, read back merged, downsampled to 15-minute rows after a day, pruned after 14 days."""

from __future__ import annotations

import sqlalchemy as sa

from event_router.store import Store
from event_router.store.history import (
    COARSE,
    FINE_SECONDS,
    KEEP_SECONDS,
    MINUTE,
    ROUTER,
    Point,
)
from event_router.store.schema import history

NOW = 1_780_000_200  # a whole quarter of an hour (divisible by 900)


def rows(store: Store) -> list[tuple[str, int, str, int]]:
    with store._db.read() as conn:
        query = sa.select(history.c.scope, history.c.ts, history.c.process, history.c.step)
        return sorted(tuple(r) for r in conn.execute(query).all())


def test_a_minute_is_written_and_read_back(store: Store) -> None:
    ts = NOW - 120
    store.history.record(
        "local",
        {
            "lrs": Point(
                ts, events=10, delivered=12, retries=1, lag=5, p50_ms=20, p99_ms=90, samples=12
            ),
            ROUTER: Point(ts, ingested=11, events=10, delivered=12),
        },
    )
    found = store.history.series(["lrs", ROUTER, "other"], ts - 60, NOW)
    assert found["other"] == []
    [point] = found["lrs"]
    assert (point.ts, point.step, point.events, point.delivered, point.retries) == (
        ts, 60, 10, 12, 1,
    )  # fmt: skip
    assert (point.lag, point.p50_ms, point.p99_ms, point.samples) == (5, 20.0, 90.0, 12)
    assert found[ROUTER][0].ingested == 11
    # Outside the range: nothing.
    assert store.history.series(["lrs"], NOW, NOW + 60)["lrs"] == []


def test_the_same_minute_written_twice_by_one_process_adds_up(store: Store) -> None:
    ts = NOW - 60
    store.history.record("local", {"lrs": Point(ts, delivered=3, p50_ms=10, samples=3)})
    store.history.record("local", {"lrs": Point(ts, delivered=1, p50_ms=50, samples=1)})
    [point] = store.history.series(["lrs"], ts, NOW)["lrs"]
    assert point.delivered == 4
    assert point.p50_ms == 20.0  # weighted by samples: (10*3 + 50) / 4


def test_processes_rows_are_summed_and_whole_figures_take_the_largest(store: Store) -> None:
    ts = NOW - 60
    store.history.record("a", {"lrs": Point(ts, delivered=5, lag=40, p99_ms=100, samples=5)})
    store.history.record("b", {"lrs": Point(ts, delivered=7, lag=42, p99_ms=300, samples=7)})
    store.history.record("a", {ROUTER: Point(ts, ingested=100)})
    store.history.record("b", {ROUTER: Point(ts, ingested=100)})
    found = store.history.series(["lrs", ROUTER], ts, NOW)
    [point] = found["lrs"]
    assert point.delivered == 12  # each process delivered its share
    assert point.lag == 42  # every process sees the group's whole lag: not 82
    assert point.p99_ms == 300
    assert found[ROUTER][0].ingested == 100  # the journal's intake, seen by both


def test_a_longer_step_regroups_buckets(store: Store) -> None:
    base = NOW - 900
    for i in range(15):
        store.history.record("local", {"lrs": Point(base + i * MINUTE, delivered=i, lag=i)})
    [point] = store.history.series(["lrs"], base, NOW, step=900)["lrs"]
    assert (point.ts, point.step, point.delivered, point.lag) == (base, 900, sum(range(15)), 14)


def test_housekeeping_downsamples_after_a_day_and_prunes_after_the_keep_time(
    store: Store,
) -> None:
    old = NOW - FINE_SECONDS - 2 * COARSE  # two quarters before the one-minute window
    for i in range(30):
        for process in ("a", "b"):
            store.history.record(
                process,
                {
                    "lrs": Point(
                        old + i * MINUTE,
                        delivered=1,
                        events=2,
                        samples=1,
                        p50_ms=float(i),
                        p99_ms=float(i),
                    )
                },
            )
    recent = NOW - 300
    store.history.record("a", {"lrs": Point(recent, delivered=9)})
    ancient = NOW - KEEP_SECONDS - COARSE
    store.history.record("a", {"lrs": Point(ancient, delivered=1, step=COARSE)})

    merged, deleted = store.history.housekeep(NOW)

    assert (merged, deleted) == (60, 1)
    assert rows(store) == [
        ("lrs", old, "a", COARSE),
        ("lrs", old, "b", COARSE),
        ("lrs", old + COARSE, "a", COARSE),
        ("lrs", old + COARSE, "b", COARSE),
        ("lrs", recent, "a", MINUTE),  # within the day: still one-minute
    ]
    found = store.history.series(["lrs"], NOW - KEEP_SECONDS - 2 * COARSE, NOW)["lrs"]
    assert [(p.ts, p.step, p.delivered, p.events) for p in found] == [
        (old, COARSE, 30, 60),
        (old + COARSE, COARSE, 30, 60),
        (recent, MINUTE, 9, 0),
    ]
    assert found[0].p99_ms == 14.0 and found[0].p50_ms == 7.0
    # Nothing more to do the next time; a late one-minute row of a merged quarter joins it.
    assert store.history.housekeep(NOW) == (0, 0)
    store.history.record("a", {"lrs": Point(old + 60, delivered=100)})
    assert store.history.housekeep(NOW) == (1, 0)
    found = store.history.series(["lrs"], old, old + COARSE)["lrs"]
    assert found[0].delivered == 130
