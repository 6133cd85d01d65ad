"""`/api/v1/consumers`: create, read, update, delete, enable/disable, test connection; bad input
gets a clear 4xx and changes nothing; secrets never come back."""

from __future__ import annotations

import json
from typing import Any

import pytest

from event_router.sinks.webhook import SIGNATURE_HEADER
from tests.peers.bus import BusRedis, bus_redis
from tests.peers.kafka import KafkaBus
from tests.peers.ralph import Ralph
from tests.peers.receiver import Receiver
from tests.web.conftest import Web

__all__ = ["bus_redis"]

LRS = {
    "name": "lrs",
    "protocol": "xapi",
    "url": "http://127.0.0.1:9/xapi/statements",
    "auth": "basic",
    "username": "key",
    "password": "hunter2-secret",
    "headers": {"X-Api-Key": "header-secret", "X-Tenant": "school"},
    "route": {"allow": ["edx\\.video\\..*"]},
}


def create(web: Web, body: dict[str, Any]) -> Any:
    return web.admin().post("/api/v1/consumers", json=body)


def test_create_then_read_without_secrets(web: Web) -> None:
    response = create(web, LRS)
    assert response.status_code == 201
    created = response.json()
    assert created["name"] == "lrs" and created["sink"] == "lrs" and created["enabled"] is True
    assert created["password"] == "set" and created["token"] is None
    assert created["headers"] == {"X-Api-Key": "set", "X-Tenant": "school"}
    assert created["route"]["allow"] == ["edx\\.video\\..*"]
    for path in ("/api/v1/consumers", "/api/v1/consumers/lrs"):
        text = web.viewer().get(path).text
        assert "hunter2" not in text and "header-secret" not in text
    listed = web.viewer().get("/api/v1/consumers").json()["consumers"]
    assert [c["name"] for c in listed] == ["lrs"]
    stored = web.store.consumers.get("lrs")
    assert stored.password == "hunter2-secret" and stored.headers["X-Api-Key"] == "header-secret"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({**LRS, "name": "Bad Name"}, "name: use 1-63 lowercase letters"),
        ({**LRS, "batch_size": 0}, "batch_size: Input should be greater than or equal to 1"),
        ({**LRS, "url": "ftp://x"}, "url must be http(s) for a lrs sink"),
        ({**LRS, "auth": "basic", "username": None}, "basic auth needs username and password"),
        ({**LRS, "route": {"allow": ["("]}}, "route.allow: invalid regular expression"),
        ({**LRS, "colour": "blue"}, "colour: Extra inputs are not permitted"),
        ({**LRS, "protocol": "smoke-signals"}, "protocol: Input should be 'xapi'"),
        ({**LRS, "password": "set"}, 'password: "set" stands for a stored secret'),
        ({k: v for k, v in LRS.items() if k != "url"}, "url: Field required"),
    ],
)
def test_invalid_configuration_is_refused_with_reasons(
    web: Web, body: dict[str, Any], expected: str
) -> None:
    response = create(web, body)
    assert response.status_code == 400
    answer = response.json()
    assert answer["error"] == "invalid consumer configuration"
    assert any(line.startswith(expected) or expected in line for line in answer["errors"]), answer
    assert "hunter2" not in response.text  # messages never echo input
    assert web.store.consumers.list() == []


@pytest.mark.parametrize(
    "content", [b"{not json", b"[1, 2]", b"", b'"a string"'], ids=["broken", "list", "empty", "str"]
)
def test_bodies_that_are_not_an_object_are_400(web: Web, content: bytes) -> None:
    response = web.admin().post(
        "/api/v1/consumers", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid request"


def test_duplicate_names_are_409(web: Web) -> None:
    assert create(web, LRS).status_code == 201
    response = create(web, {**LRS, "url": "http://elsewhere.test/x"})
    assert response.status_code == 409
    assert "already exists" in response.json()["error"]
    assert web.store.consumers.get("lrs").url == LRS["url"]


def test_unknown_consumers_are_404(web: Web) -> None:
    client = web.admin()
    for method, path in (
        ("GET", "/api/v1/consumers/nope"),
        ("PATCH", "/api/v1/consumers/nope"),
        ("DELETE", "/api/v1/consumers/nope"),
        ("POST", "/api/v1/consumers/nope/enable"),
        ("POST", "/api/v1/consumers/nope/disable"),
        ("POST", "/api/v1/consumers/nope/test"),
    ):
        response = client.request(method, path, json={} if method == "PATCH" else None)
        assert response.status_code == 404, (method, path)
        assert response.json()["error"] == "no consumer named 'nope'"


def test_patch_changes_only_what_it_names_and_merges_routes(web: Web) -> None:
    create(web, {**LRS, "route": {"allow": ["a"], "courses": ["c1"]}})
    response = web.admin().patch(
        "/api/v1/consumers/lrs", json={"batch_size": 7, "route": {"allow": ["b"]}}
    )
    assert response.status_code == 200
    data = response.json()
    assert data["batch_size"] == 7
    assert data["route"]["allow"] == ["b"] and data["route"]["courses"] == ["c1"]
    stored = web.store.consumers.get("lrs")
    assert stored.password == "hunter2-secret" and stored.username == "key"


def test_patch_with_masked_secrets_keeps_them_and_null_clears(web: Web) -> None:
    create(web, LRS)
    shown = web.admin().get("/api/v1/consumers/lrs").json()
    editable = {k: shown[k] for k in ("password", "headers", "url", "auth", "username")}
    assert web.admin().patch("/api/v1/consumers/lrs", json=editable).status_code == 200
    stored = web.store.consumers.get("lrs")
    assert stored.password == "hunter2-secret"
    assert stored.headers == {"X-Api-Key": "header-secret", "X-Tenant": "school"}
    cleared = web.admin().patch(
        "/api/v1/consumers/lrs", json={"auth": "none", "password": None, "username": None}
    )
    assert cleared.status_code == 200 and cleared.json()["password"] is None
    assert web.store.consumers.get("lrs").password is None


def test_patch_refuses_invalid_changes_and_renames(web: Web) -> None:
    create(web, LRS)
    before = web.store.consumers.record("lrs")
    for body, expected in (
        ({"name": "other"}, "name: a consumer cannot be renamed"),
        ({"timeout": -1}, "timeout: Input should be greater than 0"),
        ({"auth": "bearer"}, "bearer auth needs a token"),
    ):
        response = web.admin().patch("/api/v1/consumers/lrs", json=body)
        assert response.status_code == 400
        assert any(expected in line for line in response.json()["errors"]), response.json()
    assert web.store.consumers.record("lrs").revision == before.revision


def test_enable_disable_and_delete(web: Web) -> None:
    create(web, LRS)
    client = web.admin()
    assert client.post("/api/v1/consumers/lrs/disable").json()["enabled"] is False
    assert web.store.consumers.get("lrs").enabled is False
    assert client.post("/api/v1/consumers/lrs/enable").json()["enabled"] is True
    web.store.dead_letters.add("lrs", 1, "play_video", None, "rejected")
    response = client.delete("/api/v1/consumers/lrs")
    assert response.status_code == 204 and response.content == b""
    assert web.store.consumers.list() == [] and web.store.dead_letters.count() == 0
    assert client.delete("/api/v1/consumers/lrs").status_code == 404


# -- test connection --------------------------------------------------------------------------


def test_connection_to_a_real_lrs_reads_and_writes_nothing(web: Web, ralph: Ralph) -> None:
    before = len(ralph.statements())
    create(web, {**LRS, "url": ralph.url, "username": ralph.username, "password": ralph.password})
    result = web.admin().post("/api/v1/consumers/lrs/test").json()
    assert result["ok"] is True and result["status"] == 200
    assert result["request"] == f"GET {ralph.url}?limit=1"
    assert result["verdict"] == "the LRS answered and accepted the credentials"
    assert result["latency_ms"] > 0 and result["body"] == ""  # a success body is never shown
    web.admin().patch("/api/v1/consumers/lrs", json={"password": "wrong"})
    refused = web.admin().post("/api/v1/consumers/lrs/test").json()
    assert refused["ok"] is False and refused["status"] == 401
    assert refused["verdict"] == "the LRS refused the credentials"
    assert len(ralph.statements()) == before


def test_connection_to_a_caliper_endpoint_sends_one_sample_event(
    web: Web, receiver: Receiver
) -> None:
    create(
        web,
        {"name": "cal", "protocol": "caliper", "url": receiver.url + "/caliper", "auth": "bearer",
         "token": "t0ken"},
    )  # fmt: skip
    receiver.require_bearer("t0ken")
    result = web.admin().post("/api/v1/consumers/cal/test").json()
    assert result["ok"] is True and result["status"] == 200, result
    assert result["verdict"] == "the endpoint accepted the sample item"
    (stored,) = receiver.received
    assert stored.kind == "caliper"
    assert stored.item["type"] == "Event" and "ConnectionTest" in json.dumps(stored.item)
    again = web.admin().post("/api/v1/consumers/cal/test").json()
    assert again["ok"] is True
    assert receiver.ids == [stored.id, stored.id]  # a deterministic id: the same item again


def test_connection_to_a_webhook_is_signed_and_reports_rejections(
    web: Web, receiver: Receiver
) -> None:
    create(
        web,
        {"name": "hook", "protocol": "edx", "sink": "webhook", "url": receiver.url + "/hook",
         "signing_secret": "s3cret"},
    )  # fmt: skip
    receiver.webhook_secret = "s3cret"
    result = web.admin().post("/api/v1/consumers/hook/test").json()
    assert result["ok"] is True, result
    assert receiver.last().signature_ok is True
    assert SIGNATURE_HEADER.lower() in receiver.last().headers
    receiver.fail_next(1, 400, body=b'{"error": "schema"}')
    rejected = web.admin().post("/api/v1/consumers/hook/test").json()
    assert rejected == {
        **rejected,
        "ok": False,
        "status": 400,
        "body": '{"error": "schema"}',
        "verdict": "the endpoint rejected the sample item as invalid",
    }


def test_connection_failures_are_reported_not_raised(web: Web, receiver: Receiver) -> None:
    receiver.down()
    create(web, {**LRS, "url": receiver.url + "/xapi/statements"})
    result = web.admin().post("/api/v1/consumers/lrs/test").json()
    assert result["ok"] is False and result["status"] is None
    assert result["verdict"] == "no answer" and "ConnectError" in result["body"]


def test_connection_to_an_archive_checks_it_is_writable(web: Web) -> None:
    target = web.home / "archives" / "archive"
    create(web, {"name": "arch", "protocol": "xapi", "sink": "archive", "url": str(target)})
    result = web.admin().post("/api/v1/consumers/arch/test").json()
    assert result["ok"] is True and result["verdict"] == "the archive is writable"
    assert list((target / "arch").iterdir()) == []  # the probe was removed
    blocked = web.home / "archives" / "file"
    blocked.write_text("not a directory")
    web.admin().patch("/api/v1/consumers/arch", json={"url": str(blocked)})
    failed = web.admin().post("/api/v1/consumers/arch/test").json()
    assert failed["ok"] is False and "Error" in failed["body"]


def test_connection_to_the_event_bus_writes_nothing(web: Web, bus_redis: BusRedis) -> None:
    url = f"{bus_redis.url}?topic=xapi&prefix={bus_redis.prefix}"
    create(web, {"name": "bus", "protocol": "xapi", "sink": "bus", "url": url})
    result = web.admin().post("/api/v1/consumers/bus/test").json()
    stream = bus_redis.stream("xapi")
    assert result["ok"] is True, result
    assert result["verdict"] == f"Redis answered; the stream {stream} holds 0 entries"
    assert bus_redis.client.exists(stream) == 0
    unknown_user = {"auth": "basic", "username": "nobody", "password": "wrong"}
    web.admin().patch("/api/v1/consumers/bus", json=unknown_user)
    refused = web.admin().post("/api/v1/consumers/bus/test").json()
    assert refused["ok"] is False and "Error" in refused["body"]


def test_connection_to_kafka_checks_topic_and_registry(web: Web, kafka_bus: KafkaBus) -> None:
    topic = kafka_bus.topic("xapi")
    kafka_bus.create_topic(topic, partitions=2)
    url = (
        f"kafka://{kafka_bus.bootstrap}?prefix={kafka_bus.prefix}&registry={kafka_bus.registry.url}"
    )
    create(web, {"name": "kafka", "protocol": "xapi", "sink": "kafka", "url": url})
    result = web.admin().post("/api/v1/consumers/kafka/test").json()
    assert result["ok"] is True, result
    assert result["verdict"] == (
        f"Kafka answered; the topic {topic} has 2 partition(s); the registry holds its schemas"
    )
    assert f"{topic}-string" in kafka_bus.registry.subjects
    kafka_bus.registry.down()
    try:
        failed = web.admin().post("/api/v1/consumers/kafka/test").json()
    finally:
        kafka_bus.registry.up()
    assert failed["ok"] is False and "unreachable" in failed["body"]
