"""The admin API of a real `event-router run` process, delivering to the real test receiver:
configure through the API, watch status and metrics move, dead-letter and replay."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.peers.receiver import Receiver
from tests.peers.router import Router
from tests.support.traffic import play
from tests.support.wait import wait_until

pytestmark = pytest.mark.timeout(120)


def metric(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    raise KeyError(name)


def test_configure_deliver_dead_letter_and_replay_through_the_api(
    tmp_path: Path, receiver: Receiver
) -> None:
    router = Router(tmp_path / "home")
    with router:
        consumer = {
            "name": "lrs",
            "url": receiver.url + "/xapi/statements",
            "linger": 0.01,
            "route": {"allow": ["play_video"]},
        }
        assert router.api("POST", "/api/v1/consumers", json=consumer).status_code == 201
        wait_until(
            lambda: router.status()["consumers"]["lrs"]["state"] == "running", message="start"
        )

        events = [play(i) for i in range(20)]
        assert router.post(events).status_code == 202
        receiver.wait_for(20)
        lrs = wait_until(
            lambda: (s := router.status()["consumers"]["lrs"])["delivered"] == 20 and s,
            message="20 delivered",
        )
        assert lrs["pending"] == 0 and lrs["latency_ms"]["p50"] is not None

        # The playground names the exact statement the consumer would get: poison that one.
        poisoned = play(1000)
        tried = router.api("POST", "/api/v1/playground", json=poisoned).json()
        (statement,) = tried["results"][0]["items"]
        receiver.poison.add(statement["id"])
        assert router.post([poisoned, play(1001)]).status_code == 202
        receiver.wait_for(21)
        letters = wait_until(
            lambda: router.api("GET", "/api/v1/dead-letters?consumer=lrs").json()["items"],
            message="the dead letter",
        )
        (letter,) = letters
        assert letter["status"] == 400 and "invalid statement" in letter["answer"]
        full = router.api("GET", f"/api/v1/dead-letters/{letter['id']}").json()
        assert full["item"]["id"] == statement["id"]

        receiver.poison.clear()
        replayed = router.api("POST", f"/api/v1/dead-letters/{letter['id']}/replay").json()
        assert replayed == {"marked": 1}
        receiver.wait_for(22)
        assert statement["id"] in receiver.ids
        wait_until(
            lambda: (
                router.api("GET", f"/api/v1/dead-letters/{letter['id']}").json()["state"]
                == "replayed"
            ),
            message="the replay to be recorded",
        )

        text = router.api("GET", "/metrics").text
        assert metric(text, "event_router_events_ingested_total") == 22
        assert metric(text, "event_router_http_ingest_events_total", outcome="accepted") == 22
        assert metric(text, "event_router_delivered_total", consumer="lrs") == 22
        assert metric(text, "event_router_dead_lettered_total", consumer="lrs") == 1
        assert metric(text, "event_router_dead_letters_open", consumer="lrs") == 0
        count = metric(text, "event_router_delivery_latency_seconds_count", consumer="lrs")
        assert count == 21  # replays are not ingest-to-delivery latencies

        assert router.api("POST", "/api/v1/consumers/lrs/disable").status_code == 200
        wait_until(
            lambda: router.status()["consumers"]["lrs"]["state"] == "disabled", message="disable"
        )
        assert router.post([play(2000)]).status_code == 202
        # journaled and held back (a delivering consumer would have moved past it), and no
        # request still on its way to the receiver
        wait_until(lambda: router.status()["consumers"]["lrs"]["pending"] == 1, message="held")
        receiver.drain()
        assert receiver.count == 22  # nothing delivered while disabled
        router.api("POST", "/api/v1/consumers/lrs/enable")
        receiver.wait_for(23)
    assert receiver.duplicates == {}


def test_the_running_router_checks_destinations_and_archive_paths(tmp_path: Path) -> None:
    """`run` checks consumer writes against its own settings: the allow-list of its environment
    and the archive root of its home (not the process's working directory)."""
    router = Router(tmp_path / "home", EVENT_ROUTER_ALLOWED_DESTINATIONS="lrs.example.com")
    with router:
        own = {"name": "own", "url": f"http://0x7f000001:{router.port}/metrics"}
        refused = router.api("POST", "/api/v1/consumers", json=own)
        assert refused.status_code == 400
        assert "not in EVENT_ROUTER_ALLOWED_DESTINATIONS" in refused.json()["errors"][0]
        fine = {"name": "lrs", "url": "https://lrs.example.com/xAPI/statements"}
        assert router.api("POST", "/api/v1/consumers", json=fine).status_code == 201
        files = {"name": "files", "sink": "archive", "url": "copies"}
        created = router.api("POST", "/api/v1/consumers", json=files)
        assert created.status_code == 201
        assert created.json()["url"] == str(router.home / "archives" / "copies")
        outside = router.api("POST", "/api/v1/consumers", json={**files, "url": "../copies"})
        assert outside.status_code == 400 and "'..' is not allowed" in outside.text
