""" "Test connection": one request that shows whether a consumer's endpoint and credentials work.

What is sent is the least surprising request that exercises the real path. A sink that can be
probed without writing anything says how in its own module (`SinkType.check`: an LRS is read, an
archive gets a probe file written and removed, a bus's Redis gets PING and XLEN, a Kafka topic's
metadata is read and its schemas registered); the others (a Caliper endpoint, a webhook: nothing
to read) get one real item through the consumer's own sink (envelope, signature, auth): the
translation of a fixed sample event about a made-up learner, with a deterministic id, so testing
twice stores nothing new.

The button must not turn the router into a proxy for reading what only it can reach (the
loopback, a metadata service, its own /metrics): every answer goes through `sinks.check` (a
success answer's body is never shown, an error answer's excerpt has the consumer's secrets
masked); and EVENT_ROUTER_ALLOWED_DESTINATIONS, when set, is checked before anything is sent, as
the sinks do.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from event_router.events import normalise
from event_router.routing.consumer import Consumer, Protocol
from event_router.sinks.base import SinkError, build_sink
from event_router.sinks.check import result as _result
from event_router.sinks.check import shown
from event_router.sinks.destinations import (
    DestinationRefused,
    Destinations,
    allowlist_from_env,
    s3_endpoint,
)
from event_router.sinks.outcome import Verdict
from event_router.sinks.registry import sink_type
from event_router.sinks.requirements import problems
from event_router.translate import Options, TranslationError, translate
from event_router.web.secrets_mask import mask_url

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
    probe = sink_type(str(consumer.sink)).check
    if probe is not None:
        return await probe(consumer)
    return await _send_sample(consumer, options, secret_key)


async def _refused(consumer: Consumer) -> str | None:
    """Why EVENT_ROUTER_ALLOWED_DESTINATIONS forbids reaching this consumer, if it does."""
    allowlist = allowlist_from_env()
    if allowlist is None:
        return None
    if consumer.sink == "archive":
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
