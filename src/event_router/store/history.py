"""Delivery figures over time, in the control plane: what the dashboard's charts draw.

Each router process writes one row a minute per consumer it runs and one for the router as a
whole (scope `_router`), keyed by (scope, minute, process): processes never write each other's
rows, so scale-out needs no coordination. Reading sums the processes' rows of a minute (each
delivered its own share); figures every process sees whole (the journal's intake, a consumer
group's lag) take the largest instead of the sum. Latency percentiles cannot be summed: a merged
p50 is the mean of the rows' p50 weighted by their samples, a merged p99 the largest p99 (an
upper bound). One process (the default, SQLite journal) reads back exactly what it wrote.

Rows older than a day are merged into 15-minute rows (`step` 900) and rows older than
`KEEP_SECONDS` (14 days) are deleted, by whichever process holds the housekeeping lease.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from event_router.store.database import Database
from event_router.store.schema import history

ROUTER = "_router"  # the router as a whole (no consumer name starts with "_")
MINUTE = 60
COARSE = 900  # the step of rows older than FINE_SECONDS
FINE_SECONDS = 86_400  # one-minute rows are kept this long
KEEP_SECONDS = 14 * 86_400  # every row is kept this long
COUNTERS = (
    "events",
    "delivered",
    "ingested",
    "retries",
    "errors",
    "dead_letters",
    "untranslatable",
)
WHOLE = frozenset({"ingested", "lag"})  # figures each process sees whole: the largest, not a sum
_COMPACT_BATCH = 20_000  # rows merged per housekeeping pass (bounded work per minute)


@dataclass(frozen=True, slots=True)
class Point:
    """What happened in one bucket (`ts` .. `ts + step`): counts in the bucket, `lag` at its
    end, latency percentiles (ms) of the deliveries in it, from `samples` of them."""

    ts: int
    step: int = MINUTE
    events: int = 0  # journal events handled (delivered, skipped or dead-lettered)
    delivered: int = 0  # items the endpoint accepted
    ingested: int = 0  # events accepted into the journal (scope `_router`)
    retries: int = 0
    errors: int = 0
    dead_letters: int = 0
    untranslatable: int = 0
    lag: int | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    samples: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _weighted(a: Point, b: Point) -> float | None:
    if a.p50_ms is None or b.p50_ms is None:
        return a.p50_ms if b.p50_ms is None else b.p50_ms
    total = a.samples + b.samples
    if total == 0:
        return max(a.p50_ms, b.p50_ms)
    return round((a.p50_ms * a.samples + b.p50_ms * b.samples) / total, 2)


def _largest(x: Any, y: Any) -> Any:
    return y if x is None else x if y is None else max(x, y)


def merge(a: Point, b: Point, *, across_processes: bool) -> Point:
    """Two rows as one: of one process over a longer time (counts add up), or of two processes
    over the same time (counts add up, except the figures each sees whole)."""
    counts = {}
    for name in COUNTERS:
        x, y = getattr(a, name), getattr(b, name)
        counts[name] = max(x, y) if across_processes and name in WHOLE else x + y
    return replace(
        a,
        **counts,
        lag=_largest(a.lag, b.lag),
        p50_ms=_weighted(a, b),
        p99_ms=_largest(a.p99_ms, b.p99_ms),
        samples=a.samples + b.samples,
    )


_VALUES = [f.name for f in fields(Point) if f.name != "ts"]


def _point(row: Any) -> Point:
    return Point(ts=int(row.ts), **{name: getattr(row, name) for name in _VALUES})


class History:
    """The `history` table: write a minute, read series, downsample and prune."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, process: str, points: Mapping[str, Point]) -> None:
        """Store this process's rows (by scope); a row it already has for that bucket (written
        before a restart in the same minute) absorbs the new one."""
        if not points:
            return
        with self._db.write() as conn:
            for scope, point in points.items():
                self._put(conn, scope, process, point)

    def _put(self, conn: Connection, scope: str, process: str, point: Point) -> None:
        key = (history.c.scope == scope) & (history.c.ts == point.ts)
        key &= history.c.process == process
        found = conn.execute(sa.select(history).where(key)).first()
        if found is not None:
            point = merge(_point(found), point, across_processes=False)
            values = {name: getattr(point, name) for name in _VALUES}
            conn.execute(sa.update(history).where(key).values(**values))
        else:
            conn.execute(sa.insert(history).values(scope=scope, process=process, **asdict(point)))

    def series(
        self, scopes: Sequence[str] | None, since: int, until: int, step: int = MINUTE
    ) -> dict[str, list[Point]]:
        """Per scope (all when `scopes` is None), the buckets of [since, until) in time order,
        the processes' rows merged, and regrouped into `step`-second buckets when `step` is
        longer than the rows' own (older rows are 15-minute ones: their step says so)."""
        query = sa.select(history).where(history.c.ts >= since, history.c.ts < until)
        if scopes is not None:
            query = query.where(history.c.scope.in_(list(scopes)))
        with self._db.read() as conn:
            rows = conn.execute(query.order_by(history.c.scope, history.c.ts)).all()
        by_minute: dict[tuple[str, int], Point] = {}
        for row in rows:
            point, at = _point(row), (row.scope, int(row.ts))
            known = by_minute.get(at)
            by_minute[at] = point if known is None else merge(known, point, across_processes=True)
        out: dict[str, list[Point]] = {scope: [] for scope in scopes or ()}
        for (scope, _), point in sorted(by_minute.items()):
            points = out.setdefault(scope, [])
            bucket = point.ts - point.ts % step if step > point.step else point.ts
            point = replace(point, ts=bucket, step=max(step, point.step))
            if points and points[-1].ts == bucket:
                points[-1] = merge(points[-1], point, across_processes=False)
            else:
                points.append(point)
        return out

    def housekeep(self, now: float) -> tuple[int, int]:
        """Merge one-minute rows older than a day into 15-minute rows, and delete rows older
        than `KEEP_SECONDS`: (rows merged, rows deleted)."""
        cutoff = int(now - FINE_SECONDS) // COARSE * COARSE  # whole 15-minute buckets only
        with self._db.write() as conn:
            rows = conn.execute(
                sa.select(history)
                .where(history.c.step == MINUTE, history.c.ts < cutoff)
                .order_by(history.c.ts)
                .limit(_COMPACT_BATCH)
            ).all()
            merged: dict[tuple[str, str, int], Point] = {}
            for row in rows:
                point = _point(row)
                bucket = point.ts - point.ts % COARSE
                point = replace(point, ts=bucket, step=COARSE)
                key = (row.scope, row.process, bucket)
                known = merged.get(key)
                merged[key] = (
                    point if known is None else merge(known, point, across_processes=False)
                )
            for chunk in _chunks(rows, 500):
                conn.execute(
                    sa.delete(history).where(
                        history.c.step == MINUTE,
                        sa.tuple_(history.c.scope, history.c.ts, history.c.process).in_(
                            [(r.scope, r.ts, r.process) for r in chunk]
                        ),
                    )
                )
            for (scope, process, _), point in merged.items():
                self._put(conn, scope, process, point)
            deleted = conn.execute(
                sa.delete(history).where(history.c.ts < int(now - KEEP_SECONDS))
            ).rowcount
        return len(rows), int(deleted)


def _chunks(rows: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
