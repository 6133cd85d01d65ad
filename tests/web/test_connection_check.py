""" "Test connection" is not a proxy: it sends the URL as configured, shows no success body, shows
a short masked excerpt of an error body, and honours EVENT_ROUTER_ALLOWED_DESTINATIONS.

Before the fix it fetched any address (`[::1]`, `0x7f000001`, the router's own /metrics) and
answered 1,000 characters of whatever came back, and it dropped the URL's query.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from event_router.routing.consumer import Consumer
from tests.peers.receiver import Receiver
from tests.web.conftest import Web

INTERNAL = b'# HELP internal_metric what only the router may see\ninternal_metric{secret="x"} 1\n'


def create(web: Web, config: dict[str, Any]) -> None:
    web.admin().post("/api/v1/consumers", json=config).raise_for_status()


def check(web: Web, name: str) -> dict[str, Any]:
    answer = web.admin().post(f"/api/v1/consumers/{name}/test")
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_the_lrs_probe_keeps_the_query_and_never_shows_a_success_body(
    web: Web, receiver: Receiver
) -> None:
    receiver.get_body = INTERNAL
    url = f"{receiver.url}/xapi/statements?tenant=t1&limit=50"
    create(web, {"name": "lrs", "url": url})
    result = check(web, "lrs")
    assert result["ok"] is True and result["status"] == 200 and result["latency_ms"] > 0
    assert result["body"] == "" and "internal_metric" not in str(result)
    assert receiver.last().method == "GET" and receiver.last().path == "/xapi/statements"
    assert receiver.last().query == "tenant=t1&limit=1"  # ours replaces theirs, the rest stays
    # what is shown masks the configured values (they may be keys); ours is plain
    assert result["request"] == f"GET {receiver.url}/xapi/statements?tenant=***&limit=1"


def test_an_error_body_is_a_short_excerpt_with_secrets_masked(web: Web, receiver: Receiver) -> None:
    create(web, {"name": "lrs", "url": f"{receiver.url}/xapi/statements", "auth": "basic",
                 "username": "router", "password": "hunter2-password",
                 "headers": {"X-Api-Key": "apikey-789"}})  # fmt: skip
    basic = base64.b64encode(b"router:hunter2-password").decode()
    echo = f"you sent Basic {basic} hunter2-password apikey-789 ".encode() + b"x" * 1000
    receiver.fail_next(1, 500, body=echo)
    result = check(web, "lrs")
    assert result["ok"] is False and result["status"] == 500
    assert result["body"].startswith("you sent Basic *** *** *** x")
    assert len(result["body"]) <= 200
    for secret in (basic, "hunter2-password", "apikey-789"):
        assert secret not in str(result)


def test_a_sample_send_shows_no_success_body(web: Web, receiver: Receiver) -> None:
    create(web, {"name": "cal", "protocol": "caliper", "url": f"{receiver.url}/caliper"})
    result = check(web, "cal")
    assert result["ok"] is True and result["status"] == 200 and result["body"] == ""
    receiver.fail_next(1, 400, body=b'{"error": "' + b"y" * 500 + b'"}')
    rejected = check(web, "cal")
    assert rejected["ok"] is False and rejected["status"] == 400
    assert rejected["body"].startswith('{"error": "yyy') and len(rejected["body"]) == 200


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "0x7f000001", "2130706433", "127.1", "[::ffff:127.0.0.1]", "localhost"]
)
def test_destinations_outside_the_allow_list_are_never_contacted(
    web: Web, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    for name, sink in (("lrs", "lrs"), ("hook", "webhook")):
        create(web, {"name": name, "protocol": "xapi", "sink": sink,
                     "url": f"http://{host}:{receiver.port}/metrics",
                     **({"signing_secret": "s"} if sink == "webhook" else {})})  # fmt: skip
    monkeypatch.setenv("EVENT_ROUTER_ALLOWED_DESTINATIONS", "lrs.example.com, 10.0.0.0/8")
    for name in ("lrs", "hook"):
        result = check(web, name)
        assert result["ok"] is False and result["request"] == "nothing sent"
        assert "not in EVENT_ROUTER_ALLOWED_DESTINATIONS" in result["verdict"]
    assert receiver.requests == 0
    monkeypatch.setenv("EVENT_ROUTER_ALLOWED_DESTINATIONS", "127.0.0.0/8, ::1")
    assert check(web, "lrs")["ok"] is True and receiver.requests == 1


def test_a_stored_consumer_that_breaks_the_rules_gets_nothing(web: Web, tmp_path: Path) -> None:
    """Rows stored before the checks existed (written here as such a router wrote them) are
    held to the same rules: an archive outside the root is not written to."""
    outside = tmp_path / "outside"
    consumers = web.store.consumers
    with consumers._db.write() as conn:
        old = Consumer(name="old", protocol="xapi", sink="archive", url=str(outside))
        consumers._insert(conn, old, consumers._db.bump(conn))
    result = check(web, "old")
    assert result["ok"] is False and result["request"] == "nothing sent"
    assert "is outside the archive root" in result["verdict"]
    assert not outside.exists()
