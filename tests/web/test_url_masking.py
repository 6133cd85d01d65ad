"""Secrets in a URL (userinfo, query values) are never shown back or logged; userinfo is refused."""

from __future__ import annotations

import logging

import pytest

from event_router.routing.consumer import Consumer
from event_router.sinks import build_sink
from tests.peers.payloads import encode, send, statement
from tests.peers.receiver import Receiver
from tests.web.conftest import Web

HOOK = {
    "name": "hook",
    "protocol": "edx",
    "sink": "webhook",
    "url": "https://collector.example.com/in?api_key=qk-7f3a-secret&tenant=t9",
    "signing_secret": "s",
}


def test_query_values_are_masked_for_viewers_and_admins(web: Web) -> None:
    created = web.admin().post("/api/v1/consumers", json=HOOK)
    assert created.status_code == 201
    for client in (web.admin(), web.viewer()):
        listed = client.get("/api/v1/consumers").text
        shown = client.get("/api/v1/consumers/hook").json()
        assert "qk-7f3a-secret" not in listed + created.text
        assert shown["url"] == "https://collector.example.com/in?api_key=***&tenant=***"
    page = web.admin().get("/consumers/hook/edit").text
    assert "qk-7f3a-secret" not in page


def test_a_masked_url_sent_back_keeps_the_stored_one(web: Web) -> None:
    web.admin().post("/api/v1/consumers", json=HOOK)
    shown = web.admin().get("/api/v1/consumers/hook").json()
    assert web.admin().patch("/api/v1/consumers/hook", json={"url": shown["url"]}).is_success
    assert web.store.consumers.get("hook").url == HOOK["url"]


def test_credentials_in_the_userinfo_are_refused_pointing_to_auth(web: Web) -> None:
    body = {**HOOK, "name": "lrs", "protocol": "xapi", "sink": "lrs"}
    body["url"] = "https://router:pw-91c2-secret@lrs.example.com/xapi/statements"
    refused = web.admin().post("/api/v1/consumers", json=body)
    assert refused.status_code == 400
    assert "--auth basic --username" in refused.text and "pw-91c2-secret" not in refused.text


def test_the_http_client_log_never_holds_query_values(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    consumer = Consumer(
        name="hook", protocol="edx", sink="webhook", signing_secret="s",
        url=receiver.url + "/hook?api_key=qk-7f3a-secret",
    )  # fmt: skip
    with caplog.at_level(logging.DEBUG):
        send(build_sink(consumer, secret_key="k"), encode(statement()))
    assert receiver.count == 1
    assert "HTTP Request: POST" in caplog.text  # httpx did log the request
    assert "qk-7f3a-secret" not in caplog.text
    assert "api_key=***" in caplog.text
