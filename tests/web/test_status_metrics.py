"""`/api/v1/status` joined with the store, and `/metrics` in Prometheus' text format."""

from __future__ import annotations

from typing import Any

from event_router.delivery.stats import LATENCY_BUCKETS, Stats
from event_router.routing.consumer import Consumer
from tests.support.web import busy_engine, samples, stream_with_a_subscriber
from tests.web.conftest import Web


def test_status_needs_a_user_and_joins_engine_and_store(web_engine: Web) -> None:
    busy_engine(web_engine)
    web_engine.store.dead_letters.add("lrs", 3, "play_video", None, "rejected")
    assert web_engine.client().get("/api/v1/status").status_code == 401
    status = web_engine.viewer().get("/api/v1/status").json()
    assert set(status) >= {"journal", "sources", "ingest", "consumers"}
    lrs: dict[str, Any] = status["consumers"]["lrs"]
    assert lrs["state"] == "retrying" and lrs["delivered"] == 40 and lrs["in_flight"] == 2
    assert lrs["dead_letters"] == 1 and lrs["dead_letters_open"] == 1
    assert lrs["last_error"] == "retry: HTTP 503"
    assert lrs["latency_ms"]["p50"] == 20.0 and lrs["protocol"] == "xapi"
    assert status["consumers"]["off"]["state"] == "disabled"
    assert status["consumers"]["new"]["state"] == "starting"  # stored, not picked up yet


def test_status_without_delivery_in_this_process(web: Web) -> None:
    web.store.consumers.add(Consumer(name="lrs", url="http://a.test/xapi"))
    status = web.viewer().get("/api/v1/status").json()
    assert status["consumers"]["lrs"]["state"] == "not running"
    assert status["journal"] == {"head": 0, "events": 0, "bytes": status["journal"]["bytes"]}


def test_metrics_export_counters_gauges_and_latency_histograms(web_engine: Web) -> None:
    busy_engine(web_engine)
    web_engine.store.dead_letters.add("lrs", 3, "play_video", None, "rejected")
    response = web_engine.client().get("/metrics")  # no auth: Prometheus scrapes it as is
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = samples(response.text)

    def value(name: str, **labels: str) -> float:
        return found[(name, tuple(sorted(labels.items())))]

    assert value("event_router_events_ingested_total") == 0
    assert value("event_router_delivered_total", consumer="lrs") == 40
    assert value("event_router_events_handled_total", consumer="lrs") == 42
    assert value("event_router_delivery_failures_total", consumer="lrs") == 3
    assert value("event_router_dead_lettered_total", consumer="lrs") == 1
    assert value("event_router_dead_letters_open", consumer="lrs") == 1
    assert value("event_router_skipped_total", consumer="lrs", reason="route") == 1
    assert value("event_router_in_flight_items", consumer="lrs") == 2
    assert value("event_router_consumer_state", consumer="lrs", state="retrying") == 1
    assert value("event_router_consumer_state", consumer="lrs", state="running") == 0
    assert value("event_router_consumer_state", consumer="off", state="disabled") == 1
    assert value("event_router_http_ingest_events_total", outcome="accepted") == 0

    bucket = "event_router_delivery_latency_seconds_bucket"
    assert value(bucket, consumer="lrs", le="0.005") == 1
    assert value(bucket, consumer="lrs", le="0.025") == 3
    assert value(bucket, consumer="lrs", le="0.5") == 4
    assert value(bucket, consumer="lrs", le="10.0") == 5
    assert value(bucket, consumer="lrs", le="+Inf") == 5
    assert value("event_router_delivery_latency_seconds_count", consumer="lrs") == 5
    assert abs(value("event_router_delivery_latency_seconds_sum", consumer="lrs") - 7.344) < 1e-9
    bounds = [
        labels for (name, labels) in found if name == bucket and ("consumer", "lrs") in labels
    ]
    assert len(bounds) == len(LATENCY_BUCKETS) + 1
    assert ("process_resident_memory_bytes", ()) in found


def test_latency_histogram_counts_every_delivery_not_just_the_recent_window() -> None:
    stats = Stats()
    for _ in range(5000):
        stats.latencies.append(0.001)
    assert len(stats.latencies) == 4096  # the window for percentiles stays bounded
    assert stats.latencies.observed == 5000 and stats.latencies.buckets[0] == 5000


def test_metrics_without_an_engine_still_answer(web: Web) -> None:
    response = web.client().get("/metrics")
    assert response.status_code == 200
    found = samples(response.text)
    assert found[("event_router_events_ingested_total", ())] == 0
    assert not [name for name, _ in found if name == "event_router_delivered_total"]


def test_openapi_documents_the_admin_api(web: Web) -> None:
    schema = web.client().get("/api/openapi.json").json()
    paths = set(schema["paths"])
    assert {
        "/api/v1/consumers",
        "/api/v1/consumers/{name}",
        "/api/v1/consumers/{name}/test",
        "/api/v1/dead-letters",
        "/api/v1/dead-letters/{letter_id}",
        "/api/v1/dead-letters/replay",
        "/api/v1/playground",
        "/api/v1/status",
        "/api/v1/me",
        "/api/v1/events",
        "/metrics",
    } <= paths
    assert not any(path.startswith(("/consumers", "/login", "/dead-letters")) for path in paths)
    assert web.client().get("/api/docs").status_code == 200


def test_a_stream_shows_its_subscribers_in_status_metrics_and_its_page(web_engine: Web) -> None:
    hub = stream_with_a_subscriber(web_engine)
    web_engine.journal.submit([b'{"name": "x", "timestamp": "2024-01-01T00:00:00+00:00"}']).result()
    stream = web_engine.viewer().get("/api/v1/status").json()["consumers"]["engine"]["stream"]
    assert stream["subscribers"] == 1 and stream["disconnects"] == {"slow": 1}
    (connection,) = stream["connections"]
    assert connection["token"] == "engine" and connection["user"] == "alice"
    assert connection["lag"] == web_engine.journal.head - hub.position == 1
    found = samples(web_engine.client().get("/metrics").text)
    engine = (("consumer", "engine"),)
    assert found[("event_router_stream_subscribers", engine)] == 1
    assert found[("event_router_stream_lag_events", engine)] == stream["max_lag"]
    slow = (("consumer", "engine"), ("reason", "slow"))
    assert found[("event_router_stream_disconnects_total", slow)] == 1
    page = web_engine.login().client.get("/consumers/engine/edit").text
    assert 'data-field="subscribers">1<' in page and "engine (alice)" in page
