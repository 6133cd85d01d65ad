"""The router as a real process, delivering to a real HTTP receiver: the DESIGN.md promises.

Each test starts `event-router run` in a subprocess with its own home and a consumer pointing at
the scriptable receiver (tests/peers/receiver.py), feeds it through a tracking log or HTTP
ingest, and checks what arrived: exact ids, order, nothing lost, nothing stored twice.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from event_router.sinks.webhook import verify_signature
from tests.peers.receiver import Receiver
from tests.peers.router import Router
from tests.support.reference import expected_ids
from tests.support.traffic import lrs_consumer, play, settled, write_log
from tests.support.wait import wait_until

pytestmark = pytest.mark.timeout(180)


def test_tracking_log_to_receiver_exact_and_in_order(tmp_path: Path, receiver: Receiver) -> None:
    log = tmp_path / "tracking.log"
    router = Router(tmp_path / "home", tracking_logs=[log])
    lrs_consumer(router, receiver)
    events = [play(i) for i in range(500)]
    with router:
        write_log(log, events)
        receiver.wait_for(500, timeout=60)
        settled(router, {"lrs": 500})
    assert receiver.ids == expected_ids(router, events)
    assert receiver.duplicates == {}
    status = subprocess.run(
        [sys.executable, "-m", "event_router", "status", "--json", "--home", str(router.home)],
        capture_output=True,
        check=True,
    )
    report = json.loads(status.stdout)
    assert report["journal"]["head"] == 500
    lrs = report["consumers"]["lrs"]
    assert (lrs["delivered"], lrs["pending"], lrs["dead_letters"]) == (500, 0, 0)
    assert lrs["state"] == "stopped"
    table = subprocess.run(
        [sys.executable, "-m", "event_router", "status", "--home", str(router.home)],
        capture_output=True,
        check=True,
        text=True,
    )
    assert "lrs" in table.stdout and "500" in table.stdout
    # The totals go on across restarts: they count since the consumer was created.
    more = [play(i) for i in range(500, 520)]
    with router:
        write_log(log, more)
        receiver.wait_for(520, timeout=60)
    again = subprocess.run(
        [sys.executable, "-m", "event_router", "status", "--json", "--home", str(router.home)],
        capture_output=True,
        check=True,
    )
    assert json.loads(again.stdout)["consumers"]["lrs"]["delivered"] == 520
    # Same bytes as `transform`: compare one statement fully.
    first = receiver.received[0].item
    assert first["verb"]["id"] == "https://w3id.org/xapi/video/verbs/played"
    assert receiver.last().headers["x-experience-api-version"] == "1.0.3"


def test_a_gzipped_log_is_read_whole_while_the_live_log_goes_on(
    tmp_path: Path, receiver: Receiver
) -> None:
    """A `.gz` source finishing is not the router finishing (it used to stop the whole run)."""
    old, live = tmp_path / "tracking.log-20240101.gz", tmp_path / "tracking.log"
    history = [play(i) for i in range(200)]
    old.write_bytes(gzip.compress(b"".join(orjson.dumps(e) + b"\n" for e in history)))
    router = Router(tmp_path / "home", tracking_logs=[old, live])
    lrs_consumer(router, receiver)
    fresh = [play(i) for i in range(200, 300)]
    with router:
        receiver.wait_for(200, timeout=60)
        wait_until(lambda: "read to the end" in router.log.read_text(), 30, "the .gz finished")
        assert router.process is not None and router.process.poll() is None
        write_log(live, fresh)
        receiver.wait_for(300, timeout=60)
        assert router.stop() == 0
    assert sorted(receiver.ids) == sorted(expected_ids(router, history + fresh))
    assert "read to the end" in router.log.read_text()


def test_http_ingest_accepts_valid_and_reports_invalid(tmp_path: Path, receiver: Receiver) -> None:
    router = Router(tmp_path / "home", EVENT_ROUTER_INGEST_TOKEN="sekret")
    lrs_consumer(router, receiver)
    with router:
        auth = {"Authorization": "Bearer sekret"}
        assert router.post([play(1)], headers={"Authorization": ""}).status_code == 401
        assert router.post([play(1)], headers={"Authorization": "Bearer wrong"}).status_code == 401
        good = router.post([play(1), play(2)], headers=auth)
        assert good.status_code == 202 and good.json()["accepted"] == 2
        mixed = router.post([play(3), {"no": "name"}, 7], headers=auth)
        assert mixed.status_code == 400
        body = mixed.json()
        assert body["accepted"] == 1 and body["accepted_indexes"] == [0]
        assert [e["index"] for e in body["errors"]] == [1, 2]
        ndjson = b"\n".join(orjson.dumps(play(i)) for i in (4, 5))
        gz = router.post(gzip.compress(ndjson), headers={**auth, "Content-Encoding": "gzip"})
        assert gz.status_code == 202 and gz.json()["accepted"] == 2
        assert router.post(b"{broken", headers=auth).status_code == 400
        assert router.post(b"", headers=auth).status_code == 400
        receiver.wait_for(5, timeout=30)
    assert receiver.count == 5


def test_endpoint_down_then_back_drains_backlog(tmp_path: Path, receiver: Receiver) -> None:
    router = Router(tmp_path / "home")
    lrs_consumer(router, receiver)
    with router:
        receiver.down()
        for start in range(0, 300, 100):
            assert router.post([play(i) for i in range(start, start + 100)]).status_code == 202
        state = wait_until(
            lambda: (s := router.status()["consumers"]["lrs"])["state"] == "retrying" and s,
            message="retrying",
        )
        assert state["delivered"] == 0
        receiver.up()
        receiver.wait_for(300, timeout=60)
    assert receiver.ids == expected_ids(router, [play(i) for i in range(300)])


def test_server_errors_and_slow_answers_are_retried(tmp_path: Path, receiver: Receiver) -> None:
    router = Router(tmp_path / "home")
    lrs_consumer(router, receiver, batch_size=10)
    receiver.fail_next(3, 500)
    receiver.fail_next(1, 429, retry_after="1")
    receiver.delay = 0.2
    with router:
        router.post([play(i) for i in range(40)])
        receiver.wait_for(40, timeout=60)
    assert receiver.duplicates == {}
    assert receiver.ids == expected_ids(router, [play(i) for i in range(40)])


def test_poison_statement_is_dead_lettered_and_the_rest_delivered(
    tmp_path: Path, receiver: Receiver
) -> None:
    router = Router(tmp_path / "home")
    lrs_consumer(router, receiver, batch_size=20)
    events = [play(i) for i in range(20)]
    ids = expected_ids(router, events)
    receiver.poison.add(ids[7])
    with router:
        router.post(events)
        receiver.wait_for(19, timeout=30)
        wait_until(
            lambda: router.status()["consumers"]["lrs"]["dead_letters"] == 1, 10, "dead letter"
        )
    assert receiver.ids == ids[:7] + ids[8:]
    with router.store() as store:
        (letter,) = store.dead_letters.list(consumer="lrs")
        assert letter.item["id"] == ids[7]
        assert letter.status == 400
        assert "invalid statement" in (letter.answer or "")
        assert letter.event is not None and letter.event["name"] == "play_video"


def test_kill_9_mid_stream_then_restart_loses_nothing(tmp_path: Path, receiver: Receiver) -> None:
    log = tmp_path / "tracking.log"
    router = Router(tmp_path / "home", tracking_logs=[log])
    lrs_consumer(router, receiver, batch_size=100)
    receiver.dedupe = True  # like an LRS: a re-sent id is a 409, not a second copy
    events = [play(i) for i in range(3000)]
    router.start()
    write_log(log, events[:1500])
    wait_until(lambda: receiver.count >= 300, 30, "first deliveries")
    router.kill()
    write_log(log, events[1500:])
    router.start()
    receiver.wait_for(3000, timeout=90)
    router.stop()
    stored = list(receiver.stored)
    assert sorted(stored) == sorted(expected_ids(router, events))
    # Each re-sent statement answered 409 alone is counted, as delivered and as a duplicate.
    lone_409 = sum(
        1 for e in receiver.exchanges if e.status == 409 and len(orjson.loads(e.body)) == 1
    )
    assert router.cli_status()["consumers"]["lrs"]["duplicates"] == lone_409


def test_config_changes_apply_while_running(tmp_path: Path, receiver: Receiver) -> None:
    router = Router(tmp_path / "home")
    lrs_consumer(router, receiver)
    with router:
        router.post([play(1)])
        receiver.wait_for(1, timeout=20)
        applied(router, "lrs", route={"deny": ["play_video"]})
        router.post([play(2)])
        wait_until(lambda: router.status()["consumers"]["lrs"]["skipped"] == 1, message="skip")
        receiver.drain()
        assert receiver.count == 1  # denied now
        applied(router, "lrs", route={"deny": []})
        router.post([play(3)])
        receiver.wait_for(2, timeout=20)
    assert receiver.count == 2


def applied(router: Router, name: str, **changes: object) -> None:
    """Change a consumer and wait until the running router uses the change: it is made with the
    consumer disabled, then enabled, and each step shows in the status."""
    router.update_consumer(name, enabled=False, **changes)
    wait_until(lambda: router.status()["consumers"][name]["state"] == "disabled", message="off")
    router.update_consumer(name, enabled=True)
    wait_until(lambda: router.status()["consumers"][name]["state"] == "running", message="on")


def test_auth_refusal_pauses_until_fixed(tmp_path: Path, receiver: Receiver) -> None:
    router = Router(tmp_path / "home")
    receiver.require_basic("user", "right")
    lrs_consumer(router, receiver, auth="basic", username="user", password="wrong")
    with router:
        router.post([play(1)])
        wait_until(lambda: router.status()["consumers"]["lrs"]["state"] == "paused", 20, "pause")
        router.update_consumer("lrs", password="right")
        receiver.wait_for(1, timeout=20)
    assert receiver.count == 1


def test_control_plane_on_postgresql(
    tmp_path: Path, receiver: Receiver, postgres_database: sa.URL
) -> None:
    """The same flow with consumers and dead letters in a real PostgreSQL database."""
    url = postgres_database.render_as_string(hide_password=False)
    router = Router(tmp_path / "home", EVENT_ROUTER_DATABASE_URL=url)
    lrs_consumer(router, receiver, name="pg-lrs", batch_size=10)
    events = [play(i) for i in range(30)]
    ids = expected_ids(router, events)
    receiver.poison.add(ids[3])
    with router:
        router.post(events)
        receiver.wait_for(29, timeout=30)
        wait_until(
            lambda: router.status()["consumers"]["pg-lrs"]["dead_letters"] == 1, 10, "dead letter"
        )
    assert not (router.home / "control.db").exists()
    with router.store() as store:
        assert [letter.item["id"] for letter in store.dead_letters.list(consumer="pg-lrs")] == [
            ids[3]
        ]


def test_webhook_caliper_and_archive_consumers_side_by_side(
    tmp_path: Path, receiver: Receiver
) -> None:
    """One event stream, three consumers in three forms: each gets its own, in full."""
    router = Router(tmp_path / "home")
    router.add_consumer(
        name="hook",
        protocol="edx",
        sink="webhook",
        url=receiver.url + "/hook",
        signing_secret="hook-secret",
        linger=0.01,
    )
    router.add_consumer(
        name="caliper", protocol="caliper", url=receiver.url + "/caliper", linger=0.01
    )
    archive = router.home / "archives" / "archive"
    router.add_consumer(name="files", protocol="xapi", sink="archive", url=str(archive))
    events = [play(i) for i in range(25)]
    with router:
        router.post(events)
        receiver.wait_for(50, timeout=30)  # 25 signed edX events + 25 Caliper events
        settled(router, {"hook": 25, "caliper": 25, "files": 25})
        wait_until(lambda: any(archive.rglob("*.jsonl.gz")), 20, "archive file")
    kinds = [r.kind for r in receiver.received]
    assert kinds.count("webhook") == 25 and kinds.count("caliper") == 25
    hooks = [e for e in receiver.exchanges if e.path == "/hook"]
    assert hooks and all(
        verify_signature(
            "hook-secret",
            e.headers["x-event-router-timestamp"],
            e.body,
            e.headers["x-event-router-signature"],
        )
        for e in hooks
    )
    (path,) = archive.rglob("*.jsonl.gz")
    archived = [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
    assert [s["id"] for s in archived] == expected_ids(router, events)
