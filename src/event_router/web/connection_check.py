""" "Test connection": one request that shows whether a consumer's endpoint and credentials work.

What is sent is the least surprising request that exercises the real path:
- an xAPI LRS gets `GET <statements url>?limit=1` with the consumer's auth and headers: every LRS
  answers it, and it writes nothing;
- a Caliper endpoint or a webhook (which have nothing to read) gets one real item through the
  consumer's own sink (envelope, signature, auth): the translation of a fixed sample event about a
  made-up learner, with a deterministic id, so testing twice stores nothing new;
- an archive gets a small probe file written and removed (the directory, or the S3 prefix);
- an event-bus consumer's Redis gets PING and XLEN of its stream, with its credentials: services
  read that stream, so nothing is written to it;
- a Kafka consumer's brokers are asked for its topic's metadata and its schemas are registered
  (as the first send would), with its credentials: nothing is written to the topic either.

The button must not turn the router into a proxy for reading what only it can reach (the
loopback, a metadata service, its own /metrics): a success answer's body is never shown, only
its status and timing; an error answer (4xx/5xx) shows a short excerpt with the consumer's
secrets masked; and EVENT_ROUTER_ALLOWED_DESTINATIONS, when set, is checked before anything is
sent, as the sinks do.
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
from event_router.routing.consumer import SECRET_FIELDS, Consumer, Protocol, SinkKind
from event_router.sinks.base import SinkError, build_sink
from event_router.sinks.destinations import (
    DestinationRefused,
    Destinations,
    allowlist_from_env,
    s3_endpoint,
)
from event_router.sinks.http import USER_AGENT, auth_headers
from event_router.sinks.lrs import XAPI_VERSION
from event_router.sinks.outcome import Verdict, excerpt, failure
from event_router.sinks.requirements import problems
from event_router.store.config_yaml import secret_header
from event_router.translate import Options, TranslationError, translate
from event_router.web.secrets_mask import mask_url

BODY_LIMIT = 200  # characters of an error answer shown

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


def shown(consumer: Consumer, status: int | None, text: str) -> str:
    """What of an answer may be shown: nothing of a success (or a redirect), else a short excerpt
    with every secret of the consumer replaced by `***` (an endpoint may echo what it got)."""
    if status is not None and status < 400:
        return ""
    secrets = [str(getattr(consumer, name) or "") for name in SECRET_FIELDS]
    secrets += [value for key, value in consumer.headers.items() if secret_header(key)]
    secrets += [value.split(" ", 1)[-1] for value in auth_headers(consumer).values()]
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text[:BODY_LIMIT]


async def check_connection(
    consumer: Consumer, options: Options, secret_key: str, destinations: Destinations
) -> dict[str, Any]:
    """What happened: `ok`, the HTTP `status`, `latency_ms`, an error answer's `body` (excerpt)
    and a one-line `verdict` for people. A consumer that breaks the rules new configurations
    are held to (stored by an earlier version) gets nothing sent, and the reasons."""
    found, _ = await asyncio.to_thread(problems, consumer, destinations)
    if found:
        return _result("nothing sent", verdict="; ".join(found))
    refused = await _refused(consumer)
    if refused is not None:
        return _result("nothing sent", verdict=refused)
    if consumer.sink is SinkKind.LRS:
        return await _probe_lrs(consumer)
    if consumer.sink is SinkKind.ARCHIVE:
        return await asyncio.to_thread(_probe_archive, consumer)
    if consumer.sink is SinkKind.BUS:
        return await _probe_bus(consumer)
    if consumer.sink is SinkKind.KAFKA:
        return await _probe_kafka(consumer)
    return await _send_sample(consumer, options, secret_key)


async def _refused(consumer: Consumer) -> str | None:
    """Why EVENT_ROUTER_ALLOWED_DESTINATIONS forbids reaching this consumer, if it does."""
    allowlist = allowlist_from_env()
    if allowlist is None:
        return None
    if consumer.sink is SinkKind.ARCHIVE:
        if not consumer.url.startswith("s3://"):
            return None
        target = s3_endpoint()
    else:
        target = consumer.url
    try:
        await allowlist.check_url_async(target)
    except DestinationRefused as exc:
        return f"not sent: {exc}"
    return None


async def _probe_lrs(consumer: Consumer) -> dict[str, Any]:
    headers = {"User-Agent": USER_AGENT, "X-Experience-API-Version": XAPI_VERSION}
    headers.update(consumer.headers)
    headers.update(auth_headers(consumer))
    try:  # the URL as configured (its query too), asking for one statement
        url = httpx.URL(consumer.url).copy_merge_params({"limit": "1"})
    except httpx.InvalidURL as exc:
        return _result("nothing sent", verdict=f"invalid url: {exc}")
    masked = mask_url(str(httpx.URL(consumer.url).copy_remove_param("limit")))
    request = f"GET {masked}{'&' if '?' in masked else '?'}limit=1"  # the configured values masked
    started = time.perf_counter()
    try:
        async with httpx.AsyncClient(timeout=consumer.timeout, follow_redirects=False) as client:
            response = await client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        return _failed(consumer, request, exc, started)
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
        body=shown(consumer, outcome.status, outcome.detail),
        verdict=verdicts[outcome.verdict],
    )


def sample_item(consumer: Consumer, options: Options) -> bytes:
    """The sample event as this consumer would receive it."""
    event = normalise(SAMPLE_EVENT)
    if consumer.protocol is Protocol.EDX:
        return orjson.dumps(options.identity.edx_event(event))
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
        return _failed(consumer, request, exc, started)
    finally:
        await sink.close()
    latency = round((time.perf_counter() - started) * 1000, 1)
    verdict = f"Redis answered; the stream {sink.stream} holds {length} entries"
    return _result(request, ok=True, latency_ms=latency, verdict=verdict)


async def _probe_kafka(consumer: Consumer) -> dict[str, Any]:
    from event_router.sinks.kafka import KafkaSink

    try:
        sink = KafkaSink(consumer)
    except SinkError as exc:
        return _result("nothing sent", verdict=str(exc))
    request = f"metadata of {sink.topic}, schemas in {sink.registry.url}"
    started = time.perf_counter()
    try:
        partitions = await asyncio.to_thread(sink.partitions)
        await asyncio.to_thread(sink.schema_ids)
    except Exception as exc:  # librdkafka or registry errors: report whichever it is
        return _failed(consumer, request, exc, started)
    finally:
        await sink.close()
    latency = round((time.perf_counter() - started) * 1000, 1)
    verdict = (
        f"Kafka answered; the topic {sink.topic} has {partitions} partition(s); "
        "the registry holds its schemas"
    )
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
            return _failed(consumer, request, exc, started)
    else:
        root = Path(consumer.url.removeprefix("file://")) / consumer.name
        request = f"write and remove {root / probe}"
        try:
            path = root / probe
            private_file(path)
            os.unlink(path)
        except OSError as exc:
            return _failed(consumer, request, exc, started)
    latency = round((time.perf_counter() - started) * 1000, 1)
    return _result(request, ok=True, latency_ms=latency, verdict="the archive is writable")


def _failed(consumer: Consumer, request: str, exc: BaseException, started: float) -> dict[str, Any]:
    outcome = failure(exc, latency=time.perf_counter() - started)
    latency = round(outcome.latency * 1000, 1)
    body = shown(consumer, None, outcome.detail)
    return _result(request, latency_ms=latency, body=body, verdict="no answer")
