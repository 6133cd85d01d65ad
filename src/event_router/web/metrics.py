"""`GET /metrics`: Prometheus text exposition of ingest, journal and per-consumer delivery.

Nothing is counted twice: the figures are read at scrape time from the objects that already keep
them (journal head, ingest counters, each delivery's `Stats` with its latency histogram), so the
hot path pays nothing for metrics. Counters restart at zero with the process, as Prometheus
expects, except `event_router_events_ingested_total`, the journal's own sequence number.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool

from event_router.delivery.stats import LATENCY_BUCKETS, State, Stats
from event_router.delivery.view import DeliveryView
from event_router.store import State as LetterState
from event_router.web.context import WebContext, web

router = APIRouter()
# What generate_latest writes (newer clients call 1.0.0 "latest" but only negotiate it).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Scrape(Collector):
    """Yields the families gathered for the scrape in progress."""

    def __init__(self) -> None:
        self.families: list[Metric] = []

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


class Exporter:
    """A registry of its own (process and platform figures plus ours), one per app."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self._scrape = _Scrape()
        self.registry.register(self._scrape)

    def render(self, families: list[Metric]) -> bytes:
        self._scrape.families = families  # no await between setting and rendering: no race
        try:
            return generate_latest(self.registry)
        finally:
            self._scrape.families = []


def consumer_families(
    stats: dict[str, Stats], lags: dict[str, int | None], open_letters: dict[str, int]
) -> Iterable[Metric]:
    label = ["consumer"]
    delivered = CounterMetricFamily(
        "event_router_delivered", "Items the consumer's endpoint accepted.", labels=label
    )
    handled = CounterMetricFamily(
        "event_router_events_handled",
        "Journal events a consumer is done with (delivered, skipped or dead-lettered).",
        labels=label,
    )
    failed = CounterMetricFamily(
        "event_router_delivery_failures",
        "Transient delivery failures (connection errors, timeouts, 429, 5xx), each retried.",
        labels=label,
    )
    dead = CounterMetricFamily(
        "event_router_dead_lettered", "Items the endpoint rejected as invalid.", labels=label
    )
    skipped = CounterMetricFamily(
        "event_router_skipped",
        "Events not sent: the route excluded them, or translation refused them.",
        labels=["consumer", "reason"],
    )
    waiting = GaugeMetricFamily(
        "event_router_dead_letters_open",
        "Dead letters waiting for an operator (not replayed or discarded).",
        labels=label,
    )
    lag = GaugeMetricFamily(
        "event_router_lag_events", "Journal events the consumer has not handled yet.", labels=label
    )
    in_flight = GaugeMetricFamily(
        "event_router_in_flight_items", "Items sent and not yet answered.", labels=label
    )
    state = GaugeMetricFamily(
        "event_router_consumer_state",
        "1 for the consumer's current state.",
        labels=[*label, "state"],
    )
    latency = HistogramMetricFamily(
        "event_router_delivery_latency_seconds",
        "From acceptance into the journal to the endpoint's acknowledgement.",
        labels=label,
    )
    for name, each in sorted(stats.items()):
        delivered.add_metric([name], each.delivered)
        handled.add_metric([name], each.events)
        failed.add_metric([name], each.retries)
        dead.add_metric([name], each.dead_letters)
        skipped.add_metric([name, "route"], each.skipped)
        skipped.add_metric([name, "untranslatable"], each.untranslatable)
        waiting.add_metric([name], open_letters.get(name, 0))
        lag.add_metric([name], lags.get(name) or 0)
        in_flight.add_metric([name], each.in_flight)
        for value in State:
            state.add_metric([name, value.value], 1.0 if each.state is value else 0.0)
        window = each.latencies
        cumulative, buckets = 0, []
        for bound, count in zip((*LATENCY_BUCKETS, float("inf")), window.buckets, strict=True):
            cumulative += count
            buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
        latency.add_metric([name], buckets, sum_value=window.sum)
    return [delivered, handled, failed, dead, skipped, waiting, lag, in_flight, state, latency]


def plugin_families() -> list[Metric]:
    """Plugin translators and hooks: calls by outcome and time spent, per consumer (figures
    the translation workers hand over; see `plugins.figures`). No samples with no plugin run."""
    from event_router.plugins.figures import totals

    figures = totals()
    labels = ["consumer", "plugin", "stage"]
    calls = CounterMetricFamily(
        "event_router_plugin_calls",
        "Plugin translator and hook calls, by outcome (ok, dropped, failed).",
        labels=[*labels, "outcome"],
    )
    seconds = CounterMetricFamily(
        "event_router_plugin_seconds", "Time spent in plugin translators and hooks.", labels=labels
    )
    spent: dict[tuple[str, str, str], float] = {}
    for (consumer, plugin, stage, outcome), (count, elapsed) in sorted(figures.items()):
        calls.add_metric([consumer, plugin, stage, outcome], count)
        key = (consumer, plugin, stage)
        spent[key] = spent.get(key, 0.0) + elapsed
    for key, elapsed in sorted(spent.items()):
        seconds.add_metric(list(key), elapsed)
    return [calls, seconds]


def _disk_families(path: Path | None) -> list[Metric]:
    """Free and total bytes of the journal's file system (an embedded journal only: a Redis
    journal's room is Redis memory, which Redis' own exporter reports)."""
    if path is None:
        return []
    try:
        usage = shutil.disk_usage(path.parent)
    except OSError:
        return []
    free = GaugeMetricFamily(
        "event_router_journal_disk_free_bytes",
        "Bytes free for unprivileged writers on the journal's file system.",
    )
    free.add_metric([], usage.free)
    size = GaugeMetricFamily(
        "event_router_journal_disk_size_bytes", "Total bytes of the journal's file system."
    )
    size.add_metric([], usage.total)
    return [free, size]


def login_families(context: WebContext) -> list[Metric]:
    """Sign-in pressure: how many password checks ran at once, how many were turned away."""
    peak = GaugeMetricFamily(
        "event_router_login_checks_peak", "The most password checks that ran at once."
    )
    peak.add_metric([], context.hashing.peak)
    busy = CounterMetricFamily(
        "event_router_login_checks_busy", "Sign-ins answered 429 because checks were all busy."
    )
    busy.add_metric([], context.hashing.refused)
    locked = GaugeMetricFamily(
        "event_router_login_locked", "(user name, client) pairs locked out for failed attempts."
    )
    locked.add_metric([], context.throttle.locked())
    return [peak, busy, locked]


def privacy_families(engine: DeliveryView | None, retired: int) -> list[Metric]:
    """Forgotten learners, and their events the privacy screen dropped at ingest."""
    listed = GaugeMetricFamily(
        "event_router_retired_learners", "Keyed hashes on the retired list (id and username)."
    )
    listed.add_metric([], retired)
    dropped = CounterMetricFamily(
        "event_router_retired_events_dropped",
        "Events of forgotten learners dropped at ingest by this process.",
    )
    dropped.add_metric([], engine.privacy.dropped if engine is not None else 0)
    return [listed, dropped]


def stream_families(snapshots: dict[str, dict[str, Any]]) -> list[Metric]:
    """Stream consumers' subscribers in this process: how many, how far behind, why they left."""
    label = ["consumer"]
    subscribers = GaugeMetricFamily(
        "event_router_stream_subscribers", "Subscribers connected to a stream.", labels=label
    )
    lag = GaugeMetricFamily(
        "event_router_stream_lag_events",
        "Journal events the furthest-behind subscriber of a stream has not received.",
        labels=label,
    )
    disconnects = CounterMetricFamily(
        "event_router_stream_disconnects",
        "Subscribers the router cut off, by reason (slow: its buffer overflowed; stopped).",
        labels=[*label, "reason"],
    )
    for name, snap in sorted(snapshots.items()):
        stream = snap.get("stream")
        if stream is None:
            continue
        subscribers.add_metric([name], stream["subscribers"])
        lag.add_metric([name], stream["max_lag"])
        for reason in sorted({"slow", "stopped", *stream["disconnects"]}):
            disconnects.add_metric([name, reason], stream["disconnects"].get(reason, 0))
    return [subscribers, lag, disconnects]


def _open_letters(request: Request, names: list[str]) -> dict[str, int]:
    letters = web(request).store.dead_letters
    return {name: letters.count(name, LetterState.DEAD) for name in names}


@router.get("/metrics", tags=["health"], response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus metrics (text exposition format)."""
    context = web(request)
    journal, engine = context.journal, context.engine
    stats = dict(engine.stats) if engine is not None else {}
    snapshots = engine.snapshot() if engine is not None else {}
    lags: dict[str, Any] = {name: snap["lag"] for name, snap in snapshots.items()}
    open_letters = await run_in_threadpool(_open_letters, request, list(stats))
    count, size = journal.size()
    families: list[Metric] = []
    ingested = CounterMetricFamily(
        "event_router_events_ingested", "Events accepted into the journal, from every source."
    )
    ingested.add_metric([], journal.head)
    retained = GaugeMetricFamily("event_router_journal_events", "Events the journal keeps.")
    retained.add_metric([], count)
    disk = GaugeMetricFamily("event_router_journal_bytes", "The journal's size on disk.")
    disk.add_metric([], size)
    ingest = request.app.state.ingest
    http = CounterMetricFamily(
        "event_router_http_ingest_events",
        "Events POSTed to /api/v1/events, by outcome.",
        labels=["outcome"],
    )
    http.add_metric(["accepted"], ingest.accepted)
    http.add_metric(["rejected"], ingest.rejected)
    refused = CounterMetricFamily(
        "event_router_ingest_refused",
        "Ingest requests refused (507) because the journal could not take their events.",
    )
    refused.add_metric([], ingest.refused)
    sources = CounterMetricFamily(
        "event_router_source_events", "What each source did, by kind.", labels=["source", "kind"]
    )
    for source, counts in sorted(getattr(request.app.state, "source_counts", {}).items()):
        for kind, value in sorted(dict(counts).items()):
            if ":" not in kind:  # per-event-type breakdowns stay out of Prometheus
                sources.add_metric([source, kind], value)
    retired = await run_in_threadpool(context.store.retired.count)
    families += [ingested, retained, disk, http, refused, sources, *login_families(context)]
    families += [*privacy_families(engine, retired)]
    families += _disk_families(getattr(journal, "path", None))
    families += consumer_families(stats, lags, open_letters)
    families += plugin_families()
    families += stream_families(snapshots)
    body = context.exporter.render(families)
    return Response(body, headers={"Content-Type": CONTENT_TYPE})
