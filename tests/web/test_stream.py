"""`GET /api/v1/stream` against a real `event-router run`, read by a real SSE client (httpx).

Messages arrive translated as the consumer's protocol and identity policy say, its route filters
them, `Last-Event-ID` resumes without losing or repeating anything, a subscriber that stops
reading is cut off with the reason while another keeps receiving, and only a token bound to the
consumer opens its stream.
"""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.peers.router import Router
from tests.support.stream import Message, messages, stream_token, subscribe
from tests.support.traffic import play
from tests.support.wait import wait_until

pytestmark = pytest.mark.timeout(240)


def pause(i: int) -> dict[str, object]:
    event = play(i)
    return {**event, "name": "pause_video"}


def take(stream: Iterator[Message], count: int) -> list[Message]:
    return [next(stream) for _ in range(count)]


def test_stream_translates_filters_resumes_and_refuses(tmp_path: Path) -> None:
    router = Router(tmp_path / "home")
    router.add_consumer(
        name="engine", protocol="xapi", sink="stream", route={"allow": ["play_video"]}
    )
    router.add_consumer(name="other", protocol="edx", sink="stream")
    with router:
        token, other = stream_token(router, "engine"), stream_token(router, "other")
        wait_until(
            lambda: "stream" in router.status()["consumers"]["engine"], message="the stream's hub"
        )

        # Refused: no token, a user's token, another consumer's token, a bad Last-Event-ID.
        with subscribe(router, None) as response:
            assert response.status_code == 401
        with subscribe(router, router.token) as response:
            assert response.status_code == 403
            response.read()
            assert "not bound to a stream consumer" in response.json()["error"]
        with subscribe(router, other, consumer="engine") as response:
            assert response.status_code == 403
        with subscribe(router, token, last_id="yesterday") as response:
            assert response.status_code == 400
        # A bound token is good for its stream only.
        denied = httpx.get(
            f"{router.url}/api/v1/status", headers={"Authorization": f"Bearer {token}"}
        )
        assert denied.status_code == 401

        # Interleaved plays and pauses: the route lets only the plays through, as xAPI.
        sent = [e for i in range(10) for e in (play(i), pause(i))]
        with subscribe(router, token) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            stream = messages(response)
            wait_until(
                lambda: router.status()["consumers"]["engine"]["stream"]["subscribers"] == 1,
                message="the subscriber in status",
            )
            assert router.post(sent).status_code == 202
            first = take(stream, 4)

            def lag() -> int:
                stream = router.status()["consumers"]["engine"]["stream"]
                return int(stream["connections"][0]["lag"])

            # Up to date, though the last event (a pause) was not for it.
            wait_until(lambda: lag() == 0, message="no lag")

        # The hub records its position as the consumer's cursor, so the journal is trimmed by
        # retention: nothing is held back for subscribers.
        def cursor() -> int | None:
            with contextlib.closing(sqlite3.connect(router.home / "journal.db")) as db:
                row = db.execute("SELECT seq FROM cursors WHERE consumer = 'engine'").fetchone()
            return None if row is None else int(row[0])

        wait_until(
            lambda: cursor() == len(sent), message="the hub's position as the consumer's cursor"
        )
        assert {m.event for m in first} == {"xapi"}
        for message in first:
            statement = message.data
            assert statement["verb"]["id"] == "https://w3id.org/xapi/video/verbs/played"
            assert "account" in statement["actor"]  # the anonymous identity policy
        # Journal positions of the plays: seq 1, 3, 5, ... (each event makes one statement).
        assert [m.id for m in first] == ["1", "3", "5", "7"]

        # Resume after the 4th: the other 6 plays, no repeat, no gap; then live events.
        with subscribe(router, token, last_id=first[-1].id) as response:
            stream = messages(response)
            rest = take(stream, 6)
            assert router.post([play(100)]).status_code == 202
            live = next(stream)
        assert [m.id for m in rest] == ["9", "11", "13", "15", "17", "19"]
        assert live.id == "21"
        ids = [m.data["id"] for m in [*first, *rest, live]]
        assert len(set(ids)) == 11

        # The other consumer's stream speaks its own protocol (edx), anonymously.
        with subscribe(router, other, last_id="19") as response:
            event = next(messages(response))
        assert event.event == "edx" and event.id == "20"
        assert event.data["name"] == "pause_video"
        assert event.data["context"]["user_id"] != 3  # the anonymous identity policy

        # A position beyond the journal is answered with an error event, then the end.
        with subscribe(router, token, last_id="999999") as response:
            got = list(messages(response))
        assert [m.event for m in got] == ["error"] and got[0].data["error"] == "unknown"

        # The router stops with a subscriber connected: it is told why, and the router ends.
        with subscribe(router, token) as response:
            stream = messages(response)
            wait_until(
                lambda: router.status()["consumers"]["engine"]["stream"]["subscribers"] == 1,
                message="the subscriber",
            )
            assert router.stop(timeout=30) == 0
            last = list(stream)
        assert [m.event for m in last] == ["closed"] and last[0].data["reason"] == "stopped"


def test_a_subscriber_that_stops_reading_is_cut_off_and_others_go_on(tmp_path: Path) -> None:
    router = Router(tmp_path / "home")
    router.add_consumer(
        name="engine", protocol="xapi", sink="stream", sink_options={"buffer": 20, "grace": 120}
    )
    with router:
        token = stream_token(router, "engine")
        wait_until(
            lambda: "stream" in router.status()["consumers"]["engine"], message="the stream's hub"
        )
        received: list[Message] = []
        with subscribe(router, token) as stalled, subscribe(router, token) as steady:
            stalled_stream = messages(stalled)

            def read_steadily() -> None:
                with contextlib.suppress(httpx.HTTPError):  # closed at the end of the test
                    for message in messages(steady):
                        received.append(message)

            reader = threading.Thread(target=read_steadily, daemon=True)
            reader.start()
            wait_until(
                lambda: router.status()["consumers"]["engine"]["stream"]["subscribers"] == 2,
                message="both subscribers",
            )

            def cut_off() -> bool:
                stream = router.status()["consumers"]["engine"]["stream"]
                return bool(stream["disconnects"].get("slow"))

            posted = 0
            while not cut_off():  # until the stalled one's socket and buffer are full
                assert posted < 50_000, "the stalled subscriber was never cut off"
                assert router.post([play(posted + i) for i in range(250)]).status_code == 202
                posted += 250
            # The steady one got every event, in order, without a gap.
            wait_until(lambda: len(received) >= posted, message="the steady subscriber's messages")
            assert [m.id for m in received[:posted]] == [str(i) for i in range(1, posted + 1)]
            assert {m.event for m in received} == {"xapi"}
            # The stalled one now reads: what was written, in order, then why it was cut off.
            got = []
            for message in stalled_stream:
                got.append(message)
        assert got[-1].event == "closed" and got[-1].data["reason"] == "slow"
        delivered = [m.id for m in got[:-1]]
        assert delivered == [str(i) for i in range(1, len(delivered) + 1)]
        assert got[-1].data["last_sent"] == len(delivered)
        assert len(delivered) < posted
        # It resumes from the journal where it was: nothing lost, nothing repeated.
        with subscribe(router, token, last_id=delivered[-1] if delivered else "0") as response:
            stream = messages(response)
            rest = take(stream, posted - len(delivered))
        assert [m.id for m in rest] == [str(i) for i in range(len(delivered) + 1, posted + 1)]
        # `event-router status` tells it too (from the figures the router writes each second).
        wait_until(
            lambda: (
                router.cli_status()["consumers"]["engine"]["stream"]["disconnects"] == {"slow": 1}
            ),
            message="the cut-off in `event-router status`",
        )
        metrics = httpx.get(f"{router.url}/metrics").text
        assert (
            'event_router_stream_disconnects_total{consumer="engine",reason="slow"} 1.0' in metrics
        )
        assert 'event_router_stream_subscribers{consumer="engine"}' in metrics


def test_a_subscriber_that_reads_nothing_at_all_is_closed_after_the_grace(
    tmp_path: Path,
) -> None:
    router = Router(tmp_path / "home")
    router.add_consumer(
        name="engine", protocol="xapi", sink="stream", sink_options={"buffer": 20, "grace": 1}
    )
    with router:
        token = stream_token(router, "engine")
        wait_until(
            lambda: "stream" in router.status()["consumers"]["engine"], message="the stream's hub"
        )
        # A raw client with a small receive window that never reads.
        client = socket.socket()
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.connect(("127.0.0.1", router.port))
        request = f"GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        client.sendall(request.encode() + b"\r\n")

        def stream() -> dict[str, Any]:
            return router.status()["consumers"]["engine"]["stream"]  # type: ignore[no-any-return]

        wait_until(lambda: stream()["subscribers"] == 1, message="the subscriber")
        posted = 0
        while not stream()["disconnects"].get("slow"):
            assert posted < 20_000, "the silent subscriber was never cut off"
            assert router.post([play(posted + i) for i in range(100)]).status_code == 202
            posted += 100
        wait_until(
            lambda: stream()["subscribers"] == 0, message="the connection closed after the grace"
        )
        # What it can still read ends: the server closed the connection.
        client.settimeout(30)
        while client.recv(1 << 16):
            pass
        client.close()
        assert router.post([play(99_999)]).status_code == 202  # the router goes on
    assert "Traceback" not in router.log.read_text()


@pytest.mark.parametrize("how", ["token revoked", "user removed"])
def test_an_open_stream_ends_when_its_token_stops_being_valid(tmp_path: Path, how: str) -> None:
    """Revoking a subscriber's token (or removing its user) cuts off a stream already open, as
    it ends sessions at once: a revoked subscriber gets no more learner data."""
    router = Router(tmp_path / "home")
    router.add_consumer(name="engine", protocol="xapi", sink="stream")
    with router:
        router.token  # noqa: B018  (creates the router-peer user)
        with router.store() as store:
            store.users.add("sub", "sub-password-1", "viewer")
            record, token = store.tokens.create("sub", "feed", consumer="engine")
        wait_until(
            lambda: "stream" in router.status()["consumers"]["engine"], message="the stream's hub"
        )
        with subscribe(router, token) as response:
            assert response.status_code == 200
            stream = messages(response)
            assert router.post([play(1)]).status_code == 202
            assert next(stream).event == "xapi"
            with router.store() as store:
                if how == "token revoked":
                    store.tokens.revoke(record.id)
                else:
                    store.users.remove("sub")
            last = next(stream)
            assert last.event == "closed" and last.data["reason"] == "revoked"
            assert router.post([play(2)]).status_code == 202
            assert list(stream) == []  # the connection ended; nothing more came
