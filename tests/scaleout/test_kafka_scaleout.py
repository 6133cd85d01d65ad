"""Scale-out on the Kafka journal, all real parts: the LMS's own event-bus-kafka producer → Tansu
→ three `event-router run` processes (Kafka bus source, Kafka journal keyed by learner,
PostgreSQL control plane) → a real Ralph LRS.

20,000 play_video events of 200 learners; one process is killed with SIGKILL twice while
statements flow, and restarted each time. Ralph must end up with exactly the statement ids
`event-router transform` computes for the events the LMS sent, each stored once, and each
learner's statements first stored in the order the LMS emitted the learner's events (Ralph's fs
backend appends in storage order: its data file is read in order).

The bus topic has one partition (event-bus-kafka keys records by event name: the bus itself
keeps no per-learner order across partitions, see docs/scaling.md); the journal has six.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from tests.peers.kafka import KafkaBus
from tests.peers.ralph import Ralph
from tests.peers.router import Router
from tests.support.reference import expected_ids
from tests.support.scaleout import SECRET, member
from tests.support.wait import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

COUNT = 20_000
LEARNERS = 200


def events(base: int) -> list[dict[str, Any]]:
    """Play events of `LEARNERS` learners (user ids from `base`: fresh ids in the shared
    Ralph), interleaved; `currentTime` makes each one distinct."""
    return [
        {
            "name": "play_video",
            "data": {
                "id": "0b9e39477cf34507a7a48f74be381fdd",
                "currentTime": i,
                "duration": 600_000,
                "code": "html5",
            },
            "context": {
                "user_id": base + i % LEARNERS,
                "course_id": "course-v1:edX+DemoX+Demo_Course",
                "org_id": "edX",
                "session": f"s{i % LEARNERS}",
                "event_source": "browser",
            },
        }
        for i in range(COUNT)
    ]


def partitions_of(control_plane: str, router: Router) -> list[int]:
    """The journal partitions the router process last reported delivering for `lrs`."""
    engine = sa.create_engine(control_plane)
    try:
        with engine.connect() as conn:
            value = conn.exec_driver_sql(
                "SELECT value FROM journal_state WHERE kind = 'status' AND name = %(name)s",
                {"name": member(router)},
            ).scalar()
    finally:
        engine.dispose()
    snapshot = orjson.loads(value) if value else {}
    return list(snapshot.get("consumers", {}).get("lrs", {}).get("partitions", []))


def stored(ralph: Ralph) -> list[bytes]:
    """Ralph's data file, line by line (a partial last line dropped)."""
    if not ralph.data_file.exists():
        return []
    lines = ralph.data_file.read_bytes().split(b"\n")
    return lines[:-1]


def test_three_processes_on_the_kafka_journal_keep_order_through_two_kills(
    tmp_path: Path, kafka_bus: KafkaBus, ralph: Ralph, control_plane: str
) -> None:
    topic = kafka_bus.topic()
    kafka_bus.create_topic(topic, partitions=1)
    env = {
        **kafka_bus.env(),
        "EVENT_ROUTER_JOURNAL": f"kafka://{kafka_bus.bootstrap}/{kafka_bus.prefix}-router",
        "EVENT_ROUTER_JOURNAL_PARTITIONS": "6",
        "EVENT_ROUTER_DATABASE_URL": control_plane,
        "EVENT_ROUTER_SECRET_KEY": SECRET,
        "EVENT_ROUTER_TRANSLATION_WORKERS": "0",  # 2 cores for 3 routers, Tansu, Ralph, the LMS
    }
    group = [Router(tmp_path / f"router-{i}", environment=env) for i in range(3)]
    group[0].add_consumer(
        name="lrs",
        protocol="xapi",
        url=ralph.url,
        auth="basic",
        username=ralph.username,
        password=ralph.password,
        batch_size=100,
        linger=0.05,
        max_in_flight=2,
    )
    base = random.SystemRandom().randrange(10**8, 10**9)
    before = len(stored(ralph))
    sent, emitted = tmp_path / "events.ndjson", tmp_path / "emitted.ndjson"
    sent.write_text("\n".join(json.dumps(e) for e in events(base)))
    victim = group[1]
    kills = 0
    lms: subprocess.Popen[str] | None = None
    try:
        for router in group:
            router.start()
        args = [kafka_bus.bootstrap, kafka_bus.registry.url, kafka_bus.prefix, "analytics"]
        with sent.open() as stdin, emitted.open("w") as stdout:
            lms = subprocess.Popen(
                [sys.executable, "-m", "tests.peers.openedx_kafka", "produce", *args],
                stdin=stdin,
                stdout=stdout,
                stderr=subprocess.PIPE,
                text=True,
            )
        for threshold in (3_000, 9_000):
            wait_until(
                lambda: len(stored(ralph)) - before >= threshold,  # noqa: B023
                400,
                f"{threshold} stored",
            )
            wait_until(lambda: partitions_of(control_plane, victim), 60, "the victim has no work")
            victim.kill()  # SIGKILL, mid-stream, while it delivers some partitions
            kills += 1
            assert len(stored(ralph)) - before < COUNT, "everything was stored before the kill"
            victim.start()
        _, err = lms.communicate(timeout=300)
        assert lms.returncode == 0, err[-2000:]
        lines = [json.loads(line) for line in emitted.read_text().splitlines()]
        assert lines[-1]["versions"]["edx_event_bus_kafka"]
        sent_events = lines[:-1]
        assert len(sent_events) == COUNT
        expected = expected_ids(group[0], sent_events)
        wanted = set(expected)
        assert len(wanted) == COUNT

        def ids_in_ralph() -> list[str]:
            return [
                i
                for line in stored(ralph)[before:]
                if (i := orjson.loads(line).get("id")) in wanted
            ]

        wait_until(lambda: len(set(ids_in_ralph())) >= COUNT, 600, "not every statement stored")
        time.sleep(2.0)  # anything still to come would be a duplicate: let it arrive
        order = ids_in_ralph()
        assert sorted(order) == sorted(expected), "missing, extra or repeated statements"
        assert not [i for i, n in Counter(order).items() if n > 1], "an id stored twice"

        pairs = zip(expected, sent_events, strict=True)
        learner_of = {sid: event["context"]["user_id"] for sid, event in pairs}
        emitted_order: dict[int, list[str]] = defaultdict(list)
        for sid in expected:
            emitted_order[learner_of[sid]].append(sid)
        stored_order: dict[int, list[str]] = defaultdict(list)
        for sid in order:
            stored_order[learner_of[sid]].append(sid)
        out_of_order = [u for u in emitted_order if stored_order[u] != emitted_order[u]]
        assert not out_of_order, f"{len(out_of_order)} learners' statements out of order"
        report = group[0].cli_status()
        assert report["journal"]["kind"] == "kafka"
        assert report["consumers"]["lrs"]["delivered"] > 0
        print(f"kills: {kills}; learners: {len(emitted_order)}; stored: {len(order)}")
    finally:
        if lms is not None and lms.poll() is None:
            lms.kill()
            lms.wait()
        for router in group:
            if router.process is not None:
                router.stop()
