"""The bus sink against a real Redis, and read back by the REAL openedx event-bus consumer."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import pytest

from event_router.bus.wire import (
    CALIPER_EVENT_TYPE,
    SOURCE_LIB,
    TRACKING_EVENT_TYPE,
    XAPI_EVENT_TYPE,
    decode_body,
    read_metadata,
    schema,
)
from event_router.routing.consumer import Consumer
from event_router.sinks import SinkError, Verdict, build_sink
from event_router.sinks.bus import BusSink
from tests.peers.bus import BusRedis
from tests.peers.payloads import caliper_event, encode, send, statement
from tests.peers.router import Router
from tests.support.reference import expected_ids
from tests.support.traffic import play, settled
from tests.support.wait import wait_until

pytestmark = pytest.mark.timeout(120)


def bus_consumer(bus: BusRedis, protocol: str = "xapi", query: str = "", **extra: Any) -> Consumer:
    url = f"{bus.url}?prefix={bus.prefix}" + (f"&{query}" if query else "")
    return Consumer(name=f"bus-{protocol}", protocol=protocol, sink="bus", url=url, **extra)


def test_one_entry_per_statement_in_the_bus_format(bus_redis: BusRedis) -> None:
    statements = [statement(), statement(), statement()]
    [outcome] = send(bus_consumer(bus_redis), encode(*statements))
    assert outcome.verdict is Verdict.DELIVERED
    raw = bus_redis.entries(bus_redis.stream("xapi"))
    assert len(raw) == 3
    for (_, fields), sent in zip(raw, statements, strict=True):
        assert list(fields) == [
            b"type", b"id", b"source", b"time", b"minorversion", b"sourcehost", b"sourcelib",
            b"event_data",
        ]  # fmt: skip
        meta = read_metadata(fields)
        assert meta.event_type == XAPI_EVENT_TYPE
        assert uuid.UUID(meta.id or "").version == 5
        assert meta.source == "openedx/event-router/web" and meta.sourcelib == SOURCE_LIB
        assert meta.time is not None and meta.time.endswith("+00:00")
        body = decode_body(XAPI_EVENT_TYPE, fields[b"event_data"])["xapi_statement"]
        assert body["id"] == sent["id"]
        assert json.loads(body["statement"]) == sent
    # A re-sent statement keeps its message id, so readers can drop the copy.
    send(bus_consumer(bus_redis), encode(statements[0]))
    again = bus_redis.entries(bus_redis.stream("xapi"))
    assert again[-1][1][b"id"] == raw[0][1][b"id"]


def test_url_options_topic_prefix_maxlen(bus_redis: BusRedis) -> None:
    consumer = bus_consumer(bus_redis, "caliper", "topic=learning&maxlen=5")
    sink = build_sink(consumer, secret_key="k")
    assert isinstance(sink, BusSink)
    assert sink.stream == bus_redis.stream("learning") and sink.maxlen == 5
    for _ in range(4):
        send(consumer, encode(*(caliper_event() for _ in range(10))))
    assert bus_redis.client.xlen(bus_redis.stream("learning")) < 40  # trimmed (approximately)
    fields = bus_redis.entries(bus_redis.stream("learning"), count=1)[0][1]
    assert read_metadata(fields).event_type == CALIPER_EVENT_TYPE
    with pytest.raises(SinkError, match="redis://"):
        build_sink(Consumer(name="b", sink="bus", url="http://x/"), secret_key="k")
    with pytest.raises(SinkError, match="maxlen"):
        build_sink(bus_consumer(bus_redis, "xapi", "maxlen=lots"), secret_key="k")


def test_outcomes(bus_redis: BusRedis) -> None:
    down = Consumer(name="d", sink="bus", url="redis://127.0.0.1:1/0", timeout=2)
    assert send(down, encode(statement()))[0].verdict is Verdict.RETRY
    [bad] = send(bus_consumer(bus_redis), [orjson.dumps({"no": "id"})])
    assert bad.verdict is Verdict.REJECTED and "no id" in bad.detail
    bus_redis.client.set(bus_redis.stream("xapi"), "not a stream")
    [wrong] = send(bus_consumer(bus_redis), encode(statement()))
    assert wrong.verdict is Verdict.PAUSE and "WRONGTYPE" in wrong.detail


@pytest.fixture
def acl_user(bus_redis: BusRedis) -> Iterator[str]:
    """A Redis user that may only touch keys outside this test's prefix."""
    name = f"{bus_redis.prefix}-user"
    bus_redis.client.acl_setuser(
        name, enabled=True, passwords=["+pw"], keys=["elsewhere*"], commands=["+@all"]
    )
    try:
        yield name
    finally:
        bus_redis.client.acl_deluser(name)


def test_auth_and_permission_failures_pause(bus_redis: BusRedis, acl_user: str) -> None:
    def as_user(password: str) -> Consumer:
        url = f"redis://{acl_user}:{password}@127.0.0.1:6379/0?prefix={bus_redis.prefix}"
        return Consumer(name="u", sink="bus", url=url)

    [wrong] = send(as_user("nope"), encode(statement()))
    assert wrong.verdict is Verdict.PAUSE
    [denied] = send(as_user("pw"), encode(statement()))
    assert denied.verdict is Verdict.PAUSE and "NOPERM" in denied.detail.upper()
    # Credentials in the consumer's secret fields instead of the (displayed) URL.
    secret = Consumer(
        name="s", sink="bus", url=f"{bus_redis.url}?prefix={bus_redis.prefix}",
        auth="basic", username=acl_user, password="pw",
    )  # fmt: skip
    [by_fields] = send(secret, encode(statement()))
    assert by_fields.verdict is Verdict.PAUSE and "NOPERM" in by_fields.detail.upper()
    bus_redis.client.acl_setuser(
        acl_user, enabled=True, passwords=["+pw"], keys=[f"{bus_redis.prefix}*"], reset_keys=True
    )
    assert send(secret, encode(statement()))[0].verdict is Verdict.DELIVERED
    assert bus_redis.client.xlen(bus_redis.stream("xapi")) == 1


def consume(bus: BusRedis, topic: str, count: int, kind: str) -> list[dict[str, Any]]:
    """Read `count` messages with edx-event-bus-redis's RedisEventConsumer (subprocess)."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.peers.openedx",
            "consume",
            bus.url,
            bus.prefix,
            topic,
            f"interop-{kind}",
            str(count),
            kind,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [json.loads(line) for line in out.stdout.splitlines()]


@pytest.mark.parametrize("event_type", [XAPI_EVENT_TYPE, CALIPER_EVENT_TYPE])
def test_shipped_schema_is_what_openedx_events_generates(event_type: str) -> None:
    """A downstream service declaring the signal with attrs classes gets our exact schema."""
    kind = event_type.split(".")[3]
    out = subprocess.run(
        [sys.executable, "-m", "tests.peers.openedx", "schema", kind],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    generated = json.loads(out.stdout)
    shipped = json.loads(
        resources.files("event_router.bus").joinpath("schemas", f"{event_type}.avsc").read_text()
    )
    assert generated["doc"] != shipped.pop("doc")  # only the description differs
    generated.pop("doc")
    assert generated == shipped
    assert schema(event_type)["name"] == f"{event_type}.CloudEvent"  # what the router loads


def test_real_consumer_reads_xapi_caliper_and_tracking(bus_redis: BusRedis) -> None:
    statements = [statement(), statement(context={"language": "fr"})]
    events = [caliper_event(), caliper_event()]
    tracking = [
        {"name": "problem_check", "timestamp": "2024-03-05T10:05:13+00:00", "data": "a=b",
         "context": {"user_id": 3, "username": "Élodie"}},
        {"name": "play_video", "timestamp": "2024-03-05T10:05:13.123456+00:00",
         "data": {"currentTime": 2, "duration": 600}, "context": {"course_id": "course-v1:a+b+c"}},
    ]  # fmt: skip
    send(bus_consumer(bus_redis, "xapi"), encode(*statements))
    send(bus_consumer(bus_redis, "caliper"), encode(*events))
    send(bus_consumer(bus_redis, "edx"), encode(*tracking))

    xapi = consume(bus_redis, "xapi", 2, "xapi")
    assert [json.loads(m["data"]["xapi_statement"]["statement"]) for m in xapi] == statements
    assert [m["data"]["xapi_statement"]["id"] for m in xapi] == [s["id"] for s in statements]
    caliper = consume(bus_redis, "caliper", 2, "caliper")
    assert [json.loads(m["data"]["caliper_event"]["event"]) for m in caliper] == events
    assert [m["data"]["caliper_event"]["id"] for m in caliper] == [e["id"] for e in events]
    logs = consume(bus_redis, "tracking", 2, "tracking")
    for message, sent in zip(logs, tracking, strict=True):
        record = message["data"]["tracking_log"]
        assert record["name"] == sent["name"]
        assert record["timestamp"] == sent["timestamp"]  # the library parsed and re-printed it
        assert json.loads(record["data"]) == sent["data"]
        assert json.loads(record["context"]) == sent["context"]
    firsts = ((xapi[0], XAPI_EVENT_TYPE), (caliper[0], CALIPER_EVENT_TYPE))
    for message, kind in (*firsts, (logs[0], TRACKING_EVENT_TYPE)):
        meta = message["metadata"]
        assert meta["event_type"] == kind and message["from_event_bus"] is True
        assert meta["source"] == "openedx/event-router/web"
        assert meta["sourcelib"] == [int(p) for p in SOURCE_LIB.split(".")]
        assert meta["minorversion"] == 0 and meta["time"].endswith("+00:00")
    for topic in ("xapi", "caliper", "tracking"):
        assert bus_redis.pending(bus_redis.stream(topic), f"interop-{topic}") == 0


def test_router_publishes_translated_statements(tmp_path: Path, bus_redis: BusRedis) -> None:
    """HTTP ingest → journal → translate → the consumer's stream, ids as `transform` gives them."""
    router = Router(tmp_path / "home")
    router.add_consumer(
        name="xapi-bus", protocol="xapi", sink="bus", batch_size=20, linger=0.01,
        url=f"{bus_redis.url}?prefix={bus_redis.prefix}",
    )  # fmt: skip
    events = [play(i) for i in range(50)]
    with router:
        assert router.post(events).status_code == 202
        stream = bus_redis.stream("xapi")
        wait_until(lambda: bus_redis.client.xlen(stream) >= 50, message="statements on the stream")
        settled(router, {"xapi-bus": 50})  # all answered: a duplicate would be on the stream now
    raw = bus_redis.entries(stream)
    ids = [decode_body(XAPI_EVENT_TYPE, f[b"event_data"])["xapi_statement"]["id"] for _, f in raw]
    assert ids == expected_ids(router, events)
