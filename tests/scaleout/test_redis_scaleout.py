"""Scale-out on the Redis journal, all real parts: the LMS's own edx-event-bus-redis producer →
the Redis Streams bus → three `event-router run` processes (bus source in one group, Redis
journal, PostgreSQL control plane) → a real Ralph LRS: the scenario of test_kafka_scaleout.py.

20,000 play_video events of 200 learners; one process is killed with SIGKILL twice while it holds
journal entries it has not acknowledged, and restarted each time (under a new member name: the
survivors claim what it held after `EVENT_ROUTER_CLAIM_IDLE`, its bus entries after the bus
source's claim time). Ralph must end up with exactly the statement ids `event-router transform`
computes for the events the LMS sent, each stored once.

Order is reported, not asserted: on Redis the members of a group send their batches side by side
and claimed entries arrive late, so a learner's statements may be stored out of event order
(docs/scaling.md, "Ordering"); a consumer that needs order uses the Kafka journal.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.peers.bus import BusRedis, bus_redis
from tests.peers.ralph import Ralph
from tests.peers.router import Router
from tests.support.databases import JournalRedis
from tests.support.scaleout import COUNT, Scenario, member, pending_of, statuses

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
__all__ = ["bus_redis"]  # the event-bus fixture


def test_three_processes_on_the_redis_journal_store_each_statement_once_through_two_kills(
    tmp_path: Path,
    bus_redis: BusRedis,
    journal_redis: JournalRedis,
    ralph: Ralph,
    control_plane: str,
) -> None:
    scenario = Scenario(
        tmp_path,
        ralph,
        {
            "EVENT_ROUTER_REDIS_URL": bus_redis.url,
            "EVENT_ROUTER_BUS_TOPIC": "analytics",
            "EVENT_ROUTER_BUS_PREFIX": bus_redis.prefix,
            "EVENT_ROUTER_JOURNAL": journal_redis.url,
            "EVENT_ROUTER_JOURNAL_PREFIX": journal_redis.prefix,
            "EVENT_ROUTER_DATABASE_URL": control_plane,
            "EVENT_ROUTER_CLAIM_IDLE": "3",
            "EVENT_ROUTER_TRANSLATION_WORKERS": "0",  # 2 cores: 3 routers, Redis, Ralph, the LMS
        },
    )
    # The LMS sizes its stream for the burst (the library keeps ~10,000 entries by default).
    producer = [sys.executable, "-m", "tests.peers.openedx", "produce", bus_redis.url,
                bus_redis.prefix, "analytics", str(2 * COUNT)]  # fmt: skip

    def holds_work(victim: Router) -> bool:
        return pending_of(journal_redis, "lrs").get(member(victim), 0) > 0

    with scenario.running():
        outcome = scenario.play(producer, holds_work)
        assert outcome.versions["edx_event_bus_redis"]
        assert sorted(outcome.order) == sorted(outcome.expected), "missing or extra statements"
        assert not outcome.repeated, "an id stored twice"
        report = scenario.report()
        assert report["journal"]["kind"] == "redis"
        assert report["journal"]["head"] == COUNT  # each bus event journaled once
        lrs = report["consumers"]["lrs"]
        assert lrs["delivered"] > 0
        snaps = statuses(journal_redis)  # every member's, the killed ones' included
        claimed = sum(s["consumers"]["lrs"]["group"].get("claimed", 0) for s in snaps.values())
        assert claimed > 0, "nobody took over what the victim held"
        sent, conflicts = scenario.sends(snaps.values())
    out_of_order = outcome.out_of_order()
    print(f"kills: {outcome.kills}; learners: {outcome.learners}; stored: {len(outcome.order)}; "
          f"sent (members' last figures): {sent} (409: {conflicts}); claimed: {claimed}; "
          f"learners out of event order: {len(out_of_order)}")  # fmt: skip
