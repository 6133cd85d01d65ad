"""Pointing a consumer at another host drops its stored credentials unless they are sent again:
an admin cannot have the write-only secrets delivered to a host of their own (test connection)."""

from __future__ import annotations

from tests.peers.receiver import Receiver
from tests.web.conftest import Web

STORED = {
    "name": "hook",
    "protocol": "edx",
    "sink": "webhook",
    "url": "https://partner.example.com/hook",
    "signing_secret": "stored-signing-secret",
    "headers": {"X-Api-Key": "stored-header-secret", "X-Tenant": "school"},
}
LRS = {
    "name": "lrs",
    "protocol": "xapi",
    "url": "https://lrs.example.com/xapi/statements",
    "auth": "basic",
    "username": "key",
    "password": "stored-password",
}


def test_another_host_gets_none_of_the_stored_secrets(web: Web, receiver: Receiver) -> None:
    assert web.admin().post("/api/v1/consumers", json=STORED).status_code == 201
    url = receiver.url + "/hook"
    refused = web.admin().patch("/api/v1/consumers/hook", json={"url": url})
    assert refused.status_code == 400 and "signing_secret" in refused.text  # a webhook needs one
    # The admin enters a signing secret of their own; the stored secret header stays gone.
    changes = {"url": url, "signing_secret": "admin-chosen"}
    moved = web.admin().patch("/api/v1/consumers/hook", json=changes)
    assert moved.status_code == 200, moved.text
    assert moved.json()["headers"] == {"X-Tenant": "school"}
    receiver.webhook_secret = "admin-chosen"
    result = web.admin().post("/api/v1/consumers/hook/test").json()
    assert result["ok"] is True, result
    sent = receiver.last()
    assert "x-api-key" not in sent.headers and sent.signature_ok is True
    assert "stored-header-secret" not in str(sent.headers)


def test_masked_secrets_do_not_follow_a_move(web: Web, receiver: Receiver) -> None:
    assert web.admin().post("/api/v1/consumers", json=STORED).status_code == 201
    shown = web.admin().get("/api/v1/consumers/hook").json()
    body = {"url": receiver.url + "/hook", "headers": shown["headers"]}  # X-Api-Key: "set"
    refused = web.admin().patch("/api/v1/consumers/hook", json=body)
    assert refused.status_code == 400
    assert "X-Api-Key" in refused.text


def test_basic_auth_must_be_entered_again_with_the_new_host(web: Web, receiver: Receiver) -> None:
    assert web.admin().post("/api/v1/consumers", json=LRS).status_code == 201
    url = receiver.url + "/xapi/statements"
    refused = web.admin().patch("/api/v1/consumers/lrs", json={"url": url})
    assert refused.status_code == 400
    assert "password" in refused.text and "enter them again" in refused.text
    assert web.admin().get("/api/v1/consumers/lrs").json()["url"] == LRS["url"]  # unchanged
    again = web.admin().patch("/api/v1/consumers/lrs", json={"url": url, "password": "new-pw"})
    assert again.status_code == 200
    assert web.store.consumers.get("lrs").password == "new-pw"


def test_the_same_host_keeps_the_secrets(web: Web) -> None:
    assert web.admin().post("/api/v1/consumers", json=LRS).status_code == 201
    other_path = "https://LRS.example.com:443/other/statements"
    assert web.admin().patch("/api/v1/consumers/lrs", json={"url": other_path}).status_code == 200
    assert web.store.consumers.get("lrs").password == "stored-password"
