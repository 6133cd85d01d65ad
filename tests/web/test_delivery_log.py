"""A consumer's delivery log and "retry now", through the API of a real `event-router run`
delivering to a real receiver that refuses, then fails, then accepts.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.peers.receiver import Receiver
from tests.peers.router import Router
from tests.support.traffic import play
from tests.support.wait import wait_until

pytestmark = pytest.mark.timeout(180)
PASSWORD = "s3cret-pw"


def test_the_log_shows_each_send_and_retry_now_tries_at_once(
    tmp_path: Path, receiver: Receiver
) -> None:
    router = Router(tmp_path / "home")
    router.add_consumer(
        name="lrs",
        url=receiver.url + "/xapi/statements",
        auth="basic",
        username="user",
        password=PASSWORD,
        linger=0.01,
    )
    receiver.require_basic("user", "another password")  # 401: the consumer pauses
    with router:
        router.token  # noqa: B018  (creates the admin that router.api uses)
        with router.store() as store:
            store.users.add("vic", "vic-password", "viewer")
            viewer = store.tokens.create("vic", "dashboards")[1]

        def log() -> dict[str, Any]:
            answer = router.api("GET", "/api/v1/consumers/lrs/attempts")
            assert answer.status_code == 200, answer.text
            return answer.json()  # type: ignore[no-any-return]

        assert router.api("GET", "/api/v1/consumers/nobody/attempts").status_code == 404
        assert log()["attempts"] == []
        assert router.post([play(1)]).status_code == 202
        paused = wait_until(
            lambda: found if (found := log())["attempts"] else None, message="a refused send"
        )
        (first,) = paused["attempts"]
        assert first["verdict"] == "pause" and first["status"] == 401 and first["items"] == 1
        assert first["try"] == 1 and first["latency_ms"] >= 0
        assert paused["state"] == "paused" and paused["failing_since"] == first["at"]
        # A paused consumer tries again a minute later, unless asked to now.
        assert 50 < paused["next_retry_at"] - first["at"] <= 61
        assert first["next_retry_at"] == paused["next_retry_at"]
        as_viewer = {"Authorization": f"Bearer {viewer}"}
        assert router.api("GET", "/api/v1/consumers/lrs/attempts", headers=as_viewer).json()
        denied = router.api("POST", "/api/v1/consumers/lrs/retry", headers=as_viewer)
        assert denied.status_code == 403

        # The endpoint is fixed, but now failing for a while: 503 asking for 30 s, with an
        # answer that echoes the password (it never shows).
        receiver.require_basic("user", PASSWORD)
        receiver.fail_next(2, 503, retry_after="30", body=f"busy; got {PASSWORD}".encode())
        asked = time.monotonic()
        retried = router.api("POST", "/api/v1/consumers/lrs/retry")
        assert retried.status_code == 202 and retried.json()["retrying"] is True

        def backing_off() -> dict[str, Any] | None:
            found = log()
            return found if found["attempts"][0]["status"] == 503 else None

        busy = wait_until(backing_off, message="the 503")
        assert busy["attempts"][0]["try"] == 2 and busy["state"] == "retrying"
        assert busy["attempts"][0]["answer"] == "busy; got ***"
        assert PASSWORD not in str(busy)
        assert busy["next_retry_at"] - busy["attempts"][0]["at"] >= 29  # Retry-After honoured
        assert busy["failing_since"] == first["at"]  # failing since the first refusal

        # Retry now, twice: each ends the 30 s wait at once; then the send is delivered.
        def tried_since(tried: int) -> bool:
            return bool(log()["attempts"][0]["try"] > tried)

        for tried in (2, 3):  # the 503s' tries; each retry now makes the next one at once
            wait_until(lambda: log()["next_retry_at"], message="a retry to wait for")
            assert router.api("POST", "/api/v1/consumers/lrs/retry").status_code == 202
            wait_until(partial(tried_since, tried), message="the retry asked for")
        receiver.wait_for(1, timeout=30)
        assert time.monotonic() - asked < 30  # far sooner than the waits asked for
        done = wait_until(
            lambda: found if (found := log())["failing_since"] is None else None, message="success"
        )
        newest = done["attempts"][0]
        assert newest["verdict"] == "delivered" and newest["status"] == 200
        assert newest["answer"] == ""  # a success answer is not shown (as Test connection)
        assert [a["try"] for a in done["attempts"]] == [4, 3, 2, 1]
        assert done["next_retry_at"] is None and done["state"] == "running"
        again = router.api("POST", "/api/v1/consumers/lrs/retry")
        assert again.status_code == 409 and "not waiting" in again.json()["error"]
        status = router.status()["consumers"]["lrs"]
        assert status["failing_since"] is None and status["delivered"] == 1


def test_the_log_masks_credentials_the_consumer_url_carries(
    tmp_path: Path, receiver: Receiver
) -> None:
    """A webhook whose URL holds its key (an `api_key` query value: the URL's userinfo is
    refused) and whose error answer echoes it, in a URL and on its own: the log shows neither."""
    router = Router(tmp_path / "home")
    key = "q-api-key-value"
    router.add_consumer(
        name="hook", url=f"{receiver.url}/xapi/statements?api_key={key}", linger=0.01
    )
    echoed = f"refused {receiver.url}/xapi/statements?api_key={key} (key {key})"
    receiver.fail_next(1, 503, retry_after="30", body=echoed.encode())
    with router:
        assert router.post([play(1)]).status_code == 202

        def log() -> dict[str, Any] | None:
            found = router.api("GET", "/api/v1/consumers/hook/attempts").json()
            return found if found["attempts"] else None

        attempt = wait_until(log, message="the refused send")["attempts"][0]
        assert attempt["status"] == 503
        assert attempt["answer"] == f"refused {receiver.url}/xapi/statements?api_key=*** (key ***)"
        assert key not in str(attempt)
