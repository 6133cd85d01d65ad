"""Turning the live figures into history: once a minute, what each consumer did in that minute.

The engine's counters (`Stats`) only grow; the recorder keeps their values at the start of the
current minute, and when the minute is over hands the differences to the store
(`store.history`), with the consumer's lag then and the percentiles of the latencies observed in
the minute (the newest of `Latencies`, at most its 4096). A consumer seen for the first time is
measured from then on, so totals carried over from an earlier run never count as one minute's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from event_router.delivery.stats import Stats
from event_router.store import Store, StoreError
from event_router.store.history import COUNTERS, MINUTE, ROUTER, Point

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Mark:
    counts: dict[str, int]
    observed: int  # latencies observed so far (`Latencies.observed`)


def _counts(stats: Stats) -> dict[str, int]:
    return {
        "events": stats.events,
        "delivered": stats.delivered,
        "retries": stats.retries,
        "errors": stats.errors,
        "dead_letters": stats.dead_letters,
        "untranslatable": stats.untranslatable,
    }


def _percentiles(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    ordered = sorted(values)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return pick(0.5), pick(0.99)


class Recorder:
    """One process's minute-by-minute figures, written to the control plane by `tick`."""

    def __init__(self, store: Store, process: str) -> None:
        self.store = store
        self.process = process
        self._minute: int | None = None
        self._marks: dict[str, _Mark] = {}
        self._head: int | None = None

    def watch(self, name: str, stats: Stats, head: int, now: float) -> None:
        """Measure a consumer from now on (the engine calls it as it creates the consumer's
        figures, before its delivery starts, so nothing delivered is missed): what its
        counters hold now is an earlier run's, not this minute's."""
        if self._minute is None:
            self._minute, self._head = int(now) // MINUTE * MINUTE, head
        if name not in self._marks:
            self._marks[name] = _Mark(_counts(stats), stats.latencies.observed)

    def take(
        self,
        stats: dict[str, Stats],
        lags: Callable[[], dict[str, int | None]],
        head: int,
        now: float,
    ) -> dict[str, Point] | None:
        """The rows of the minute that ended, once `now` is in a later one (None before): per
        consumer, and for the router (`ingested`: journal head moved; the rest summed). `lags`
        is asked only then."""
        minute = int(now) // MINUTE * MINUTE
        if self._minute is None or minute == self._minute:
            if self._minute is None:
                self._minute, self._head = minute, head
            for name, figures in stats.items():
                if name not in self._marks:
                    self._marks[name] = _Mark(_counts(figures), figures.latencies.observed)
            return None
        ts, self._minute = self._minute, minute
        lag = lags()
        rows: dict[str, Point] = {}
        every: list[float] = []
        for name, figures in stats.items():
            now_counts, mark = _counts(figures), self._marks.get(name)
            if mark is None:  # first seen just now: measured from now on
                mark = _Mark(now_counts, figures.latencies.observed)
            # A counter that went down was replaced (a consumer removed and added again).
            delta = {
                k: v - mark.counts[k] if v >= mark.counts[k] else v for k, v in now_counts.items()
            }
            latencies = figures.latencies
            fresh = min(len(latencies), max(0, latencies.observed - mark.observed))
            values = list(latencies)[len(latencies) - fresh :] if fresh else []
            every += values
            p50, p99 = _percentiles(values)
            rows[name] = Point(
                ts, lag=lag.get(name), p50_ms=p50, p99_ms=p99, samples=len(values), **delta
            )
            self._marks[name] = _Mark(now_counts, latencies.observed)
        for gone in [n for n in self._marks if n not in stats]:
            del self._marks[gone]
        totals = {k: sum(getattr(p, k) for p in rows.values()) for k in COUNTERS}
        totals["ingested"] = max(0, head - (self._head if self._head is not None else head))
        self._head = head
        known = [lag for lag in (p.lag for p in rows.values()) if lag is not None]
        p50, p99 = _percentiles(every)
        rows[ROUTER] = Point(
            ts,
            lag=max(known) if known else None,
            p50_ms=p50,
            p99_ms=p99,
            samples=len(every),
            **totals,
        )
        return rows

    def write(self, rows: dict[str, Point], housekeep: bool) -> None:
        """Store the rows; with the housekeeping lease, downsample and prune too. Blocking (call
        from a thread); a control plane that cannot be written loses this minute, nothing else."""
        try:
            self.store.history.record(self.process, rows)
            if housekeep:
                self.store.history.housekeep(time.time())
        except (StoreError, sa.exc.SQLAlchemyError) as exc:
            log.warning("history not recorded for this minute: %s", exc)


def lags(snapshot: dict[str, dict[str, Any]]) -> dict[str, int | None]:
    """Each consumer's lag from an engine snapshot."""
    return {name: snap.get("lag") for name, snap in snapshot.items()}
