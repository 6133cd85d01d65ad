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

import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from tests.peers.kafka import KafkaBus
from tests.peers.ralph import Ralph
from tests.peers.router import Router
from tests.support.scaleout import Scenario, member

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def snapshots(control_plane: str) -> dict[str, dict[str, Any]]:
    """Each router process's last published figures, by member name (killed ones included)."""
    engine = sa.create_engine(control_plane)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT name, value FROM journal_state WHERE kind = 'status'"
            ).all()
    finally:
        engine.dispose()
    return {name: orjson.loads(value) for name, value in rows if value}


def partitions_of(control_plane: str, router: Router) -> list[int]:
    """The journal partitions the router process last reported delivering for `lrs`."""
    snapshot = snapshots(control_plane).get(member(router), {})
    return list(snapshot.get("consumers", {}).get("lrs", {}).get("partitions", []))


def test_three_processes_on_the_kafka_journal_keep_order_through_two_kills(
    tmp_path: Path, kafka_bus: KafkaBus, ralph: Ralph, control_plane: str
) -> None:
    topic = kafka_bus.topic()
    kafka_bus.create_topic(topic, partitions=1)
    scenario = Scenario(
        tmp_path,
        ralph,
        {
            **kafka_bus.env(),
            "EVENT_ROUTER_JOURNAL": f"kafka://{kafka_bus.bootstrap}/{kafka_bus.prefix}-router",
            "EVENT_ROUTER_JOURNAL_PARTITIONS": "6",
            "EVENT_ROUTER_DATABASE_URL": control_plane,
            "EVENT_ROUTER_TRANSLATION_WORKERS": "0",  # 2 cores: 3 routers, Tansu, Ralph, the LMS
        },
    )
    producer = [sys.executable, "-m", "tests.peers.openedx_kafka", "produce", kafka_bus.bootstrap,
                kafka_bus.registry.url, kafka_bus.prefix, "analytics"]  # fmt: skip
    with scenario.running():
        # The victim is killed while it delivers some partitions.
        outcome = scenario.play(producer, lambda victim: partitions_of(control_plane, victim))
        assert outcome.versions["edx_event_bus_kafka"]
        assert sorted(outcome.order) == sorted(outcome.expected), "missing or extra statements"
        assert not outcome.repeated, "an id stored twice"
        out_of_order = outcome.out_of_order()
        assert not out_of_order, f"{len(out_of_order)} learners' statements out of order"
        report = scenario.report()
        assert report["journal"]["kind"] == "kafka"
        assert report["consumers"]["lrs"]["delivered"] > 0
        sent, conflicts = scenario.sends(snapshots(control_plane).values())
    print(f"kills: {outcome.kills}; learners: {outcome.learners}; stored: {len(outcome.order)}; "
          f"sent (members' last figures): {sent} (409: {conflicts})")  # fmt: skip
