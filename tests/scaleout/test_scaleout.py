"""Scale-out with real processes: three `event-router run` sharing a Redis journal and PostgreSQL.

Events go in over HTTP to the processes in turn; one process is killed with SIGKILL while it has
work in hand; the receiver (with `dedupe`: a re-sent id is answered 409 and not stored again)
must end up with exactly the statement ids `event-router transform` computes for the same events
and secret key, each stored once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.peers.receiver import Receiver
from tests.peers.router import Router
from tests.support.databases import JournalRedis
from tests.support.reference import expected_ids
from tests.support.scaleout import SECRET, member, pending_of, play, routers, statuses
from tests.support.wait import wait_until

pytestmark = pytest.mark.timeout(300)

COUNT = 20_000
CHUNK = 500


def kill_holding_work(
    journal: JournalRedis,
    receiver: Receiver,
    victim: Router,
    events: list[dict[str, Any]],
    expected: list[str],
) -> tuple[list[str], set[str]]:
    """SIGKILL the victim while it holds entries the receiver does not have yet.

    The receiver answers 503 for a while first, so the victim's batches are being retried (not
    delivered) when it dies. Returns the statement ids it held and those not stored at its death.
    """
    name = member(victim)
    wait_until(lambda: pending_of(journal, "lrs").get(name, 0) > 0, 20, "the victim holds nothing")
    receiver.fail_next(40, 503)
    receiver.drain()  # whatever was at the receiver is answered 503: now it is being retried
    wait_until(lambda: pending_of(journal, "lrs").get(name, 0) > 0, 20, "the victim holds nothing")
    victim.kill()
    receiver.drain()  # its requests still at the receiver are answered (503) and forgotten
    stored_at_kill = set(receiver.stored)
    rows: Any = journal.client.xpending_range(journal.stream, "lrs", "-", "+", 10_000, name)
    index = {e["timestamp"]: i for i, e in enumerate(events)}
    held = []
    for row in rows:
        entry: Any = journal.client.xrange(journal.stream, row["message_id"], row["message_id"])
        held.append(expected[index[orjson.loads(entry[0][1][b"b"])["timestamp"]]])
    return held, set(held) - stored_at_kill


def test_three_processes_share_the_work_and_survive_a_kill(
    tmp_path: Path, journal_redis: JournalRedis, control_plane: str, receiver: Receiver
) -> None:
    events = [play(i) for i in range(COUNT)]
    reference = {
        "EVENT_ROUTER_HOME": str(tmp_path / "transform"),
        "EVENT_ROUTER_SECRET_KEY": SECRET,
    }
    expected = expected_ids(reference, events)
    assert len(set(expected)) == COUNT
    receiver.dedupe = True
    receiver.delay = 0.2  # batches stay in flight long enough to be caught by the kill
    group = routers(tmp_path, journal_redis, control_plane, 3)
    group[0].add_consumer(
        name="lrs",
        protocol="xapi",
        url=receiver.url + "/xapi/statements",
        batch_size=100,
        linger=0.01,
        max_in_flight=2,
    )
    victim = group[1]
    try:
        for router in group:
            router.start()
        names = [member(r) for r in group]
        held: list[str] = []
        never_delivered: set[str] = set()
        for number, start in enumerate(range(0, COUNT, CHUNK)):
            if start == COUNT * 2 // 5:
                held, never_delivered = kill_holding_work(
                    journal_redis, receiver, victim, events, expected
                )
                # The takeover re-sends what the victim had sent, and the sender halves each
                # batch answered 409 down to single items: make that quick.
                receiver.delay = 0.0
            live = [r for r in group if r.process is not None]
            answer = live[number % len(live)].post(events[start : start + CHUNK])
            assert answer.status_code == 202, answer.text
        assert held, "the victim held no work when it was killed"
        assert never_delivered, "all the victim held had reached the receiver: nothing to take over"

        receiver.wait_for(COUNT, timeout=180)
        # The victim's entries were claimed by the survivors and acknowledged, and nothing is
        # on its way to the receiver: anything more would be a duplicate, and would show now.
        wait_until(lambda: not pending_of(journal_redis, "lrs"), 30, "entries still pending")
        receiver.drain()
        assert sorted(receiver.stored) == sorted(expected)
        assert receiver.duplicates == {}, "an id was stored twice"
        assert receiver.count == COUNT

        consumers: Any = journal_redis.client.xinfo_consumers(journal_redis.stream, "lrs")
        left = {c["name"].decode(): int(c["pending"]) for c in consumers}
        assert left.get(names[1], 0) == 0

        def claimed() -> int:
            snaps = statuses(journal_redis)
            return sum(
                snaps[n]["consumers"]["lrs"]["group"].get("claimed", 0)
                for n in (names[0], names[2])
                if n in snaps
            )

        wait_until(lambda: claimed() >= len(held), 10, "survivors report no claims")
        # The survivors both delivered (the victim's share is what it held when it died).
        snaps = statuses(journal_redis)
        for name in (names[0], names[2]):
            assert snaps[name]["consumers"]["lrs"]["delivered"] > 0, name

        # `event-router status` in scale-out mode: the cluster's view, from Redis.
        def report_of() -> dict[str, Any]:
            shown = subprocess.run(
                [sys.executable, "-m", "event_router", "status", "--json"],
                env=group[0].env, capture_output=True, text=True, check=True,
            )  # fmt: skip
            return dict(json.loads(shown.stdout))

        # The consumer's state is the live processes' (the victim's last one, `retrying` under
        # the 503s, stops counting once it has been silent for 5 s); its figures still count.
        def victim_silent() -> bool:
            report = report_of()
            return names[1] in report["silent"] or names[1] not in report["processes"]

        wait_until(victim_silent, 30, "the killed process still counts as live")
        report = report_of()
        assert report["journal"]["kind"] == "redis" and report["journal"]["head"] == COUNT
        # The victim's last figures count until they are 30 s old.
        listed = report["processes"]
        assert {names[0], names[2]} <= set(listed) <= set(names)
        row = report["consumers"]["lrs"]
        assert row["pending"] == 0 and row["processes"] == len(listed) and row["state"] == "running"
        snaps = statuses(journal_redis)
        assert row["delivered"] == sum(snaps[n]["consumers"]["lrs"]["delivered"] for n in listed)
        resent = sum(1 for e in receiver.exchanges if e.status == 409)
        print(f"held by the victim at the kill: {len(held)} (never delivered: "
              f"{len(never_delivered)}); claimed: {claimed()}; 409 answers: {resent}")  # fmt: skip
    finally:
        for router in group:
            if router.process is not None:
                assert router.stop() == 0


def refused(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "event_router", "run", "--listen", "127.0.0.1:1"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"EVENT_ROUTER_HOME": str(tmp_path), "PATH": "", **env},
    )


def test_refuses_what_processes_could_not_share(tmp_path: Path, control_plane: str) -> None:
    """Processes on several machines cannot share a SQLite file, nor a key generated in a home:
    say so and do not start."""
    journal = {"EVENT_ROUTER_JOURNAL": "redis://127.0.0.1:6379/0"}
    out = refused(tmp_path, **journal, EVENT_ROUTER_SECRET_KEY="k")
    assert out.returncode == 2
    assert "EVENT_ROUTER_DATABASE_URL" in out.stderr
    out = refused(tmp_path, **journal, EVENT_ROUTER_DATABASE_URL=control_plane)
    assert out.returncode == 2
    assert "EVENT_ROUTER_SECRET_KEY" in out.stderr
    assert list(tmp_path.iterdir()) == []  # nothing created


def test_refuses_a_journal_url_that_is_not_redis(tmp_path: Path) -> None:
    out = refused(tmp_path, EVENT_ROUTER_JOURNAL="sqlite:///x")
    assert out.returncode == 2
    assert "redis://" in out.stderr
