"""xAPI LRS sink: a batch of statements is one POST to the statements endpoint.

xAPI batches are all-or-nothing (Communication §3.2), which is why a rejection is split by the
delivery engine rather than here.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from event_router.routing.consumer import Consumer
from event_router.sinks.check import BODY_LIMIT, failed, result, shown
from event_router.sinks.http import USER_AGENT, HttpSink, auth_headers
from event_router.sinks.outcome import excerpt
from event_router.sinks.registry import SinkType, register
from event_router.web.secrets_mask import mask_url

XAPI_VERSION = "1.0.3"


class LrsSink(HttpSink):
    """POST `[statement, ...]` with `X-Experience-API-Version` (overridable through headers)."""

    def __init__(self, consumer: Consumer) -> None:
        super().__init__(consumer, {"X-Experience-API-Version": XAPI_VERSION})


async def probe_lrs(consumer: Consumer) -> dict[str, Any]:
    """`GET <statements url>?limit=1` with the consumer's auth and headers: every LRS answers
    it, and it writes nothing."""
    headers = {"User-Agent": USER_AGENT, "X-Experience-API-Version": XAPI_VERSION}
    headers.update(consumer.headers)
    headers.update(auth_headers(consumer))
    try:  # the URL as configured (its query too), asking for one statement
        url = httpx.URL(consumer.url).copy_merge_params({"limit": "1"})
    except httpx.InvalidURL as exc:
        return result("nothing sent", verdict=f"invalid url: {exc}")
    masked = mask_url(str(httpx.URL(consumer.url).copy_remove_param("limit")))
    request = f"GET {masked}{'&' if '?' in masked else '?'}limit=1"  # the configured values masked
    started = time.perf_counter()
    try:
        async with httpx.AsyncClient(timeout=consumer.timeout, follow_redirects=False) as client:
            response = await client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        return failed(consumer, request, exc, started)
    latency = round((time.perf_counter() - started) * 1000, 1)
    status = response.status_code
    ok = 200 <= status < 300
    if ok:
        verdict = "the LRS answered and accepted the credentials"
    elif status in (401, 403):
        verdict = "the LRS refused the credentials"
    elif status == 404:
        verdict = "nothing at this URL: check the statements endpoint"
    elif 300 <= status < 400:
        verdict = f"the endpoint redirects (HTTP {status}): set the url it redirects to"
    else:
        verdict = f"unexpected answer HTTP {status}"
    body = shown(consumer, status, excerpt(response.content, 4 * BODY_LIMIT))
    return result(request, ok=ok, status=status, latency_ms=latency, body=body, verdict=verdict)


register(
    SinkType(
        "lrs",
        LrsSink,
        "xAPI statements POSTed to an LRS",
        protocols=frozenset({"xapi"}),
        schemes=("http://", "https://"),
        check=probe_lrs,
    )
)
