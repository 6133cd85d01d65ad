""" "Test connection": one request that shows whether a consumer's endpoint and credentials work.

What is sent is the least surprising request that exercises the real path:
- an xAPI LRS gets `GET <statements url>?limit=1` with the consumer's auth and headers: every LRS
  answers it, and it writes nothing;
- a Caliper endpoint or a webhook (which have nothing to read) gets one real item through the
  consumer's own sink (envelope, signature, auth): the translation of a fixed sample event about a
  made-up learner, with a deterministic id, so testing twice stores nothing new;
- an archive gets a small probe file written and removed (the directory, or the S3 prefix);
- an event-bus consumer's Redis gets PING and XLEN of its stream, with its credentials: services
  read that stream, so nothing is written to it.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson

from event_router.events import normalise
from event_router.home import private_file
from event_router.routing.consumer import Consumer, Protocol, SinkKind
from event_router.sinks.base import SinkError, build_sink
from event_router.sinks.http import USER_AGENT, auth_headers
from event_router.sinks.lrs import XAPI_VERSION
from event_router.sinks.outcome import Verdict, excerpt, failure
from event_router.translate import Options, TranslationError, translate
from event_router.web.secrets_mask import mask_url

BODY_LIMIT = 1000  # characters of the endpoint's answer shown

# A harmless event about a learner who does not exist: what Caliper and webhook tests send.
SAMPLE_EVENT: dict[str, Any] = {
    "name": "edx.course.enrollment.activated",
    "timestamp": "2000-01-01T00:00:00+00:00",
    "data": {"course_id": "course-v1:EventRouter+ConnectionTest+0", "mode": "audit", "user_id": 0},
    "context": {
        "course_id": "course-v1:EventRouter+ConnectionTest+0",
        "org_id": "EventRouter",
        "user_id": 0,
        "username": "event-router-connection-test",
    },
}


def _result(request: str, **values: Any) -> dict[str, Any]:
    return {
        "request": request,
        "ok": values.pop("ok", False),
        "status": values.pop("status", None),
        "latency_ms": values.pop("latency_ms", None),
        "body": values.pop("body", ""),
        **values,
    }


async def check_connection(consumer: Consumer, options: Options, secret_key: str) -> dict[str, Any]:
    """What happened: `ok`, the HTTP `status`, `latency_ms`, the answer's `body` (excerpt) and a
    one-line `verdict` for people."""
    if consumer.sink is SinkKind.LRS:
        return await _probe_lrs(consumer)
    if consumer.sink is SinkKind.ARCHIVE:
        return await asyncio.to_thread(_probe_archive, consumer)
    if consumer.sink is SinkKind.BUS:
        return await _probe_bus(consumer)
    return await _send_sample(consumer, options, secret_key)


async def _probe_lrs(consumer: Consumer) -> dict[str, Any]:
    headers = {"User-Agent": USER_AGENT, "X-Experience-API-Version": XAPI_VERSION}
    headers.update(consumer.headers)
    headers.update(auth_headers(consumer))
    request = f"GET {mask_url(consumer.url)}?limit=1"
    started = time.perf_counter()
    try:
        async with httpx.AsyncClient(timeout=consumer.timeout, follow_redirects=False) as client:
            response = await client.get(consumer.url, params={"limit": 1}, headers=headers)
    except httpx.HTTPError as exc:
        return _failed(request, exc, started)
    latency = round((time.perf_counter() - started) * 1000, 1)
    status = response.status_code
    ok = 200 <= status < 300
    if ok:
        verdict = "the LRS answered and accepted the credentials"
    elif status in (401, 403):
        verdict = "the LRS refused the credentials"
    elif status == 404:
        verdict = "nothing at this URL: check the statements endpoint"
    else:
        verdict = f"unexpected answer HTTP {status}"
    body = excerpt(response.content, BODY_LIMIT)
    return _result(request, ok=ok, status=status, latency_ms=latency, body=body, verdict=verdict)


async def _send_sample(consumer: Consumer, options: Options, secret_key: str) -> dict[str, Any]:
    try:
        payload = sample_item(consumer, options)
        sink = build_sink(consumer, secret_key=secret_key)
    except (SinkError, TranslationError) as exc:
        return _result("nothing sent", verdict=str(exc))
    request = (
        f"POST {mask_url(consumer.url)} (one {consumer.protocol.value} item about a sample learner)"
    )
    try:
        outcome = await sink.send([payload])
    finally:
        await sink.close()
    latency = round(outcome.latency * 1000, 1)
    ok = outcome.verdict in (Verdict.DELIVERED, Verdict.DUPLICATE)
    verdicts = {
        Verdict.DELIVERED: "the endpoint accepted the sample item",
        Verdict.DUPLICATE: "the endpoint already had the sample item (fine)",
        Verdict.REJECTED: "the endpoint rejected the sample item as invalid",
        Verdict.PAUSE: "the endpoint refused: check the URL and credentials",
        Verdict.RETRY: "the endpoint is unreachable or failing",
    }
    return _result(
        request,
        ok=ok,
        status=outcome.status,
        latency_ms=latency,
        body=outcome.detail[:BODY_LIMIT],
        verdict=verdicts[outcome.verdict],
    )


def sample_item(consumer: Consumer, options: Options) -> bytes:
    """The sample event as this consumer would receive it."""
    event = normalise(SAMPLE_EVENT)
    if consumer.protocol is Protocol.EDX:
        return orjson.dumps(event.as_dict())
    (item, *_) = translate(event, consumer.protocol.value, options)
    if consumer.protocol is Protocol.XAPI and consumer.override_args:
        item = {**item, **consumer.override_args}
    return orjson.dumps(item)


async def _probe_bus(consumer: Consumer) -> dict[str, Any]:
    from redis.exceptions import RedisError

    from event_router.sinks.bus import BusSink

    try:
        sink = BusSink(consumer)
    except SinkError as exc:
        return _result("nothing sent", verdict=str(exc))
    request = f"PING, XLEN {sink.stream}"
    started = time.perf_counter()
    try:
        client = sink._client  # the sink's own connection settings and credentials
        await client.ping()
        length = await client.xlen(sink.stream)
    except (RedisError, OSError) as exc:
        return _failed(request, exc, started)
    finally:
        await sink.close()
    latency = round((time.perf_counter() - started) * 1000, 1)
    verdict = f"Redis answered; the stream {sink.stream} holds {length} entries"
    return _result(request, ok=True, latency_ms=latency, verdict=verdict)


def _probe_archive(consumer: Consumer) -> dict[str, Any]:
    started = time.perf_counter()
    probe = f".connection-test-{uuid.uuid4().hex[:8]}"
    if consumer.url.startswith("s3://"):
        import s3fs  # type: ignore[import-untyped]

        key = f"{consumer.url.removeprefix('s3://').strip('/')}/{consumer.name}/{probe}"
        request = f"PUT and DELETE s3://{key}"
        try:
            fs = s3fs.S3FileSystem(skip_instance_cache=True)
            fs.pipe_file(key, b"")
            fs.rm_file(key)
        except Exception as exc:  # botocore errors vary; report whichever it is
            return _failed(request, exc, started)
    else:
        root = Path(consumer.url.removeprefix("file://")).expanduser() / consumer.name
        request = f"write and remove {root / probe}"
        try:
            path = root / probe
            private_file(path)
            os.unlink(path)
        except OSError as exc:
            return _failed(request, exc, started)
    latency = round((time.perf_counter() - started) * 1000, 1)
    return _result(request, ok=True, latency_ms=latency, verdict="the archive is writable")


def _failed(request: str, exc: BaseException, started: float) -> dict[str, Any]:
    outcome = failure(exc, latency=time.perf_counter() - started)
    latency = round(outcome.latency * 1000, 1)
    return _result(request, latency_ms=latency, body=outcome.detail, verdict="no answer")
