"""LRS, Caliper and webhook sinks against the real receiver: wire format, auth, classification."""

from __future__ import annotations

import asyncio
import gc
import re
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import orjson
import pytest

from event_router.routing.consumer import Consumer
from event_router.sinks import SinkError, Verdict, build_sink
from event_router.sinks.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify_signature
from tests.peers.payloads import caliper_event, encode, send, statement
from tests.peers.receiver import Receiver

SEND_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def lrs(receiver: Receiver, **extra: Any) -> Consumer:
    settings: dict[str, Any] = {"auth": "basic", "username": "router", "password": "pw"}
    settings.update(extra)
    return Consumer(name="lrs", protocol="xapi", url=f"{receiver.url}/xAPI/statements", **settings)


def caliper(receiver: Receiver, **extra: Any) -> Consumer:
    return Consumer(name="cal", protocol="caliper", url=f"{receiver.url}/caliper", **extra)


def webhook(receiver: Receiver, **extra: Any) -> Consumer:
    settings: dict[str, Any] = {"signing_secret": "hook-secret"}
    settings.update(extra)
    return Consumer(
        name="hook", protocol="edx", sink="webhook", url=f"{receiver.url}/hook", **settings
    )


# -- LRS -------------------------------------------------------------------------------------------


def test_lrs_posts_the_batch_with_xapi_headers_and_basic_auth(receiver: Receiver) -> None:
    receiver.require_basic("router", "pw")
    items = encode(statement(), statement(), statement())
    consumer = lrs(receiver, headers={"X-Tenant": "demo"})
    (outcome,) = send(consumer, items)
    assert outcome.verdict is Verdict.DELIVERED and outcome.status == 200
    assert outcome.latency > 0
    exchange = receiver.last()
    assert exchange.path == "/xAPI/statements"
    assert exchange.body == b"[" + b",".join(items) + b"]"  # spliced, not re-serialised
    assert exchange.headers["x-experience-api-version"] == "1.0.3"
    assert exchange.headers["content-type"] == "application/json"
    assert exchange.headers["x-tenant"] == "demo"
    assert exchange.headers["user-agent"].startswith("openedx-event-router/")
    assert receiver.ids == [orjson.loads(i)["id"] for i in items]


def test_lrs_bearer_auth_and_version_override(receiver: Receiver) -> None:
    receiver.require_bearer("t0ken")
    consumer = lrs(
        receiver, auth="bearer", token="t0ken", headers={"X-Experience-API-Version": "2.0.0"}
    )
    (outcome,) = send(consumer, encode(statement()))
    assert outcome.verdict is Verdict.DELIVERED
    assert receiver.last().headers["authorization"] == "Bearer t0ken"
    assert receiver.last().headers["x-experience-api-version"] == "2.0.0"


def test_wrong_credentials_pause(receiver: Receiver) -> None:
    receiver.require_basic("router", "other")
    (outcome,) = send(lrs(receiver), encode(statement()))
    assert (outcome.verdict, outcome.status) == (Verdict.PAUSE, 401)
    assert "unauthorised" in outcome.detail
    assert receiver.count == 0


def test_one_connection_is_kept_alive_across_batches(receiver: Receiver) -> None:
    outcomes = send(lrs(receiver), *[encode(statement()) for _ in range(5)])
    assert all(o.verdict is Verdict.DELIVERED for o in outcomes)
    assert len({e.client_port for e in receiver.exchanges}) == 1


def test_concurrent_sends_share_the_sink(receiver: Receiver) -> None:
    async def run() -> list[Verdict]:
        sink = build_sink(lrs(receiver, max_in_flight=8), secret_key="k")
        try:
            outcomes = await asyncio.gather(*(sink.send(encode(statement())) for _ in range(20)))
        finally:
            await sink.close()
        return [o.verdict for o in outcomes]

    assert asyncio.run(run()) == [Verdict.DELIVERED] * 20
    assert len(receiver.stored) == 20


# -- classification end to end ---------------------------------------------------------------------

STATUSES = {
    200: Verdict.DELIVERED,
    204: Verdict.DELIVERED,
    400: Verdict.REJECTED,
    401: Verdict.PAUSE,
    403: Verdict.PAUSE,
    404: Verdict.PAUSE,
    409: Verdict.DUPLICATE,
    413: Verdict.REJECTED,
    415: Verdict.PAUSE,
    422: Verdict.REJECTED,
    429: Verdict.RETRY,
    500: Verdict.RETRY,
    503: Verdict.RETRY,
}


@pytest.mark.parametrize(("status", "verdict"), STATUSES.items())
def test_answers_are_classified(receiver: Receiver, status: int, verdict: Verdict) -> None:
    body = b"" if status == 204 else b'{"error": "scripted"}'
    receiver.fail_next(1, status, body=body)
    (outcome,) = send(lrs(receiver), encode(statement()))
    assert (outcome.verdict, outcome.status) == (verdict, status)
    assert outcome.detail == body.decode()


def test_retry_after_in_seconds_and_as_a_date(receiver: Receiver) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    receiver.fail_next(1, 429, retry_after="7")
    receiver.fail_next(1, 503, retry_after=when)
    first, second = send(lrs(receiver), encode(statement()), encode(statement()))
    assert (first.verdict, first.retry_after) == (Verdict.RETRY, 7)
    assert second.verdict is Verdict.RETRY
    assert second.retry_after is not None and 110 < second.retry_after <= 120


def test_a_slow_endpoint_times_out_and_retries(receiver: Receiver) -> None:
    receiver.delay = 1.0
    started = time.monotonic()
    (outcome,) = send(lrs(receiver, timeout=0.2), encode(statement()))
    assert time.monotonic() - started < 0.9
    assert (outcome.verdict, outcome.status) == (Verdict.RETRY, None)
    assert "no answer within 0.2 s" in outcome.detail


def test_connection_refused_retries_then_the_same_sink_recovers(receiver: Receiver) -> None:
    async def run() -> list[Any]:
        sink = build_sink(lrs(receiver), secret_key="k")
        try:
            before = await sink.send(encode(statement()))
            receiver.down()
            refused = await sink.send(encode(statement()))
            receiver.up()
            after = await sink.send(encode(statement()))
        finally:
            await sink.close()
        return [before, refused, after]

    before, refused, after = asyncio.run(run())
    assert before.verdict is Verdict.DELIVERED and after.verdict is Verdict.DELIVERED
    assert (refused.verdict, refused.status) == (Verdict.RETRY, None)
    assert "ConnectError" in refused.detail
    assert receiver.count == 2


def test_a_poisoned_batch_is_rejected_whole_and_a_known_id_is_a_duplicate(
    receiver: Receiver,
) -> None:
    good, bad = statement(), statement()
    receiver.poison.add(bad["id"])
    receiver.dedupe = True
    rejected, delivered, duplicate = send(
        lrs(receiver), encode(good, bad), encode(good), encode(good, statement())
    )
    assert (rejected.verdict, rejected.status) == (Verdict.REJECTED, 400)
    assert bad["id"] in orjson.loads(rejected.detail)["ids"]
    assert delivered.verdict is Verdict.DELIVERED
    assert (duplicate.verdict, duplicate.status) == (Verdict.DUPLICATE, 409)
    assert receiver.ids == [good["id"]]


def test_redirects_are_not_followed(receiver: Receiver) -> None:
    receiver.fail_next(1, 307)
    (outcome,) = send(lrs(receiver), encode(statement()))
    assert (outcome.verdict, outcome.status) == (Verdict.PAUSE, 307)


# -- Caliper -------------------------------------------------------------------------------------


def test_caliper_sends_one_envelope_with_bearer_auth(receiver: Receiver) -> None:
    receiver.require_bearer("cal-token")
    events = [caliper_event(), caliper_event()]
    consumer = caliper(
        receiver,
        auth="bearer",
        token="cal-token",
        sensor_id="https://lms.example.com/sensor",
        override_args={"extensions": {"tenant": "demo"}, "data": "ignored"},
    )
    (outcome,) = send(consumer, encode(*events))
    assert outcome.verdict is Verdict.DELIVERED
    exchange = receiver.last()
    envelope = orjson.loads(exchange.body)
    assert list(envelope) == ["sensor", "sendTime", "dataVersion", "extensions", "data"]
    assert envelope["sensor"] == "https://lms.example.com/sensor"
    assert SEND_TIME.match(envelope["sendTime"])
    assert envelope["dataVersion"] == "http://purl.imsglobal.org/ctx/caliper/v1p2"
    assert envelope["extensions"] == {"tenant": "demo"}
    assert envelope["data"] == events
    assert exchange.headers["authorization"] == "Bearer cal-token"
    assert exchange.headers["content-type"] == "application/json"
    assert "x-experience-api-version" not in exchange.headers
    assert receiver.ids == [e["id"] for e in events]
    assert {r.kind for r in receiver.received} == {"caliper"}


def test_caliper_default_sensor_names_the_router(receiver: Receiver) -> None:
    send(caliper(receiver), encode(caliper_event()))
    assert orjson.loads(receiver.last().body)["sensor"] == "urn:openedx-event-router:cal"


def test_caliper_unsupported_data_version_is_rejected(receiver: Receiver) -> None:
    receiver.fail_next(1, 422, body=b'{"title": "unsupported dataVersion"}')
    (outcome,) = send(caliper(receiver), encode(caliper_event()))
    assert outcome.verdict is Verdict.REJECTED


# -- webhook ---------------------------------------------------------------------------------------


def test_webhook_signs_the_body_and_the_receiver_verifies_it(receiver: Receiver) -> None:
    receiver.webhook_secret = "hook-secret"
    items = [{"name": "edx.course.enrollment.activated", "data": {"n": n}} for n in range(3)]
    (outcome,) = send(webhook(receiver), encode(*items))
    assert outcome.verdict is Verdict.DELIVERED
    exchange = receiver.last()
    assert exchange.signature_ok is True
    timestamp = exchange.headers[TIMESTAMP_HEADER.lower()]
    signature = exchange.headers[SIGNATURE_HEADER.lower()]
    assert abs(int(timestamp) - time.time()) < 5
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify_signature("hook-secret", timestamp, exchange.body, signature)
    assert orjson.loads(exchange.body) == items
    assert [r.item for r in receiver.received] == items
    assert {r.kind for r in receiver.received} == {"webhook"}


def test_a_tampered_or_stale_or_foreign_webhook_fails_verification(receiver: Receiver) -> None:
    send(webhook(receiver), encode({"name": "x", "data": {}}))
    exchange = receiver.last()
    timestamp = exchange.headers[TIMESTAMP_HEADER.lower()]
    signature = exchange.headers[SIGNATURE_HEADER.lower()]
    body = exchange.body
    assert verify_signature(b"hook-secret", int(timestamp), body, signature)
    assert not verify_signature("hook-secret", timestamp, body.replace(b"x", b"y"), signature)
    assert not verify_signature("other-secret", timestamp, body, signature)
    assert not verify_signature("hook-secret", str(int(timestamp) + 1), body, signature)
    assert not verify_signature("hook-secret", timestamp, body, signature.removeprefix("sha256="))
    assert not verify_signature("hook-secret", None, body, signature)
    assert not verify_signature("hook-secret", "yesterday", body, signature)
    old = int(timestamp) - 301
    assert not verify_signature("hook-secret", old, body, sign("hook-secret", old, body))
    assert verify_signature("hook-secret", old, body, sign("hook-secret", old, body), tolerance=600)


def test_the_receiver_refuses_a_webhook_signed_with_another_secret(receiver: Receiver) -> None:
    receiver.webhook_secret = "receiver-secret"
    (outcome,) = send(webhook(receiver), encode({"name": "x", "data": {}}))
    assert (outcome.verdict, outcome.status) == (Verdict.PAUSE, 401)
    assert receiver.last().signature_ok is False
    assert receiver.count == 0


# -- factory -----------------------------------------------------------------------------------


def test_a_webhook_without_a_signing_secret_is_refused_clearly(receiver: Receiver) -> None:
    with pytest.raises(SinkError, match="webhook needs a signing_secret"):
        build_sink(webhook(receiver, signing_secret=None), secret_key="k")


def test_a_url_httpx_cannot_use_pauses(receiver: Receiver) -> None:
    consumer = lrs(receiver)
    consumer.url = "http://[::1"  # passes the model's http(s) check, not a URL
    (outcome,) = send(consumer, encode(statement()))
    assert outcome.verdict is Verdict.PAUSE


# -- memory ----------------------------------------------------------------------------------------


def test_a_sent_body_is_not_kept_by_the_http_client(receiver: Receiver) -> None:
    """httpx keeps each request in a reference cycle until the cyclic collector runs: the body
    must not be in it, or draining a backlog piles up megabytes of them (docs/performance.md).
    The body still goes as one piece with its Content-Length, not chunked."""

    items = encode(*(statement() for _ in range(200)))
    body_size = len(b"[" + b",".join(items) + b"]")
    consumer = lrs(receiver)

    async def run() -> list[object]:
        sink = build_sink(consumer, secret_key="k")
        try:
            await sink.send(items)  # the connection is set up; then one send to look at
            gc.collect()
            gc.disable()
            try:
                outcome = await sink.send(items)
                assert outcome.verdict is Verdict.DELIVERED
                gc.set_debug(gc.DEBUG_SAVEALL)
                gc.collect()
                garbage = list(gc.garbage)
            finally:
                gc.set_debug(0)
                gc.garbage.clear()
                gc.enable()
            return garbage
        finally:
            await sink.close()

    garbage = asyncio.run(run())
    assert garbage, "the client made no cycle: this test no longer tests anything"
    held = [
        ref
        for obj in garbage
        for ref in gc.get_referents(obj)
        if isinstance(ref, bytes | bytearray) and len(ref) >= body_size // 2
    ]
    assert held == []
    exchange = receiver.last()
    assert exchange.headers["content-length"] == str(body_size)
    assert "transfer-encoding" not in exchange.headers
    assert len(exchange.body) == body_size
