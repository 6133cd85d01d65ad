"""Helpers of the web tests: Prometheus samples read back, an engine with figures to show, the
consumer form filled in, and the flash messages of a page."""

from __future__ import annotations

import html
import re

import httpx
from prometheus_client.parser import text_string_to_metric_families

from event_router.delivery.encoder import Encoder
from event_router.delivery.engine import Running
from event_router.delivery.stats import State, Stats
from event_router.routing.consumer import Consumer
from event_router.routing.identity import Policy
from event_router.stream.hub import Hub
from event_router.stream.tail import SqliteTail
from tests.web.conftest import Session, Web


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def busy_engine(web: Web) -> Stats:
    """The consumer `lrs` as a delivery would leave it after some work (real Stats)."""
    assert web.engine is not None
    web.store.consumers.add(Consumer(name="lrs", url="http://a.test/xapi"))
    web.store.consumers.add(Consumer(name="off", url="http://b.test/xapi", enabled=False))
    web.store.consumers.add(Consumer(name="new", url="http://c.test/xapi"))
    stats = Stats(delivered=40, events=42, skipped=1, untranslatable=1, dead_letters=1, retries=3)
    stats.in_flight, stats.cursor, stats.state = 2, 5, State.RETRYING
    stats.error("retry: HTTP 503")
    for latency in (0.004, 0.02, 0.02, 0.3, 7.0):
        stats.latencies.append(latency)
    web.engine.stats["lrs"] = stats
    web.engine.stats["off"] = Stats(state=State.DISABLED)
    stream_with_a_subscriber(web)
    return stats


def stream_with_a_subscriber(web: Web) -> Hub:
    """The stream consumer `engine` as its hub runs, one subscriber connected, one cut off."""
    assert web.engine is not None
    consumer = web.store.consumers.add(
        Consumer(name="engine", url="stream:", sink="stream")
    ).consumer
    encoder = Encoder(consumer, web.engine.options(Policy.ANONYMOUS), web.engine.cache)
    stats = web.engine.stats["engine"] = Stats()
    hub = Hub(encoder, SqliteTail(web.journal), stats)
    hub.subscribe(None, user="alice", token="engine", client="127.0.0.1")
    hub.disconnects["slow"] += 1
    web.engine._running["engine"] = Running(consumer, hub, None)  # type: ignore[arg-type]
    return hub


FULL_FORM = {
    "name": "full",
    "enabled": "on",
    "protocol": "xapi",
    "sink": "lrs",
    "url": "https://lrs.example.com/xAPI/statements",
    "auth": "basic",
    "username": "key",
    "password": "pa55word-secret",
    "token": "",
    "signing_secret": "",
    "headers": "X-Tenant: school\nAuthorization-Extra: header-secret",
    "allow": "edx\\.video\\..*\nedx.course.enrollment.activated",
    "deny": "edx.video.loaded",
    "courses": "course-v1:edX+DemoX+Demo_Course",
    "orgs": "edX",
    "sites": "lms.example.com",
    "users": "3\nedx",
    "match_params": "context.org_id = ^edX$\ncontext.org_id = ^MITx$\nname = ^edx",
    "identity": "anonymous",
    "guest_learners": "on",
    "sensor_id": "",
    "override_args": '{"version": "1.0.3"}',
    "batch_size": "50",
    "linger": "0.5",
    "max_in_flight": "2",
    "timeout": "15",
}


def messages(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<p class="message"[^>]*>([^<]+)</p>', page)]


def post(session: Session, path: str, data: dict[str, str]) -> httpx.Response:
    """A UI form posted with the session's CSRF token."""
    return session.client.post(path, data={"csrf_token": session.csrf, **data})
