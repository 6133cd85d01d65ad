"""Helpers of the scale-out tests: distinct events, a group of router processes sharing a Redis
journal, and what Redis says of their consumer group and status snapshots.

And the crash scenario, written once for every shared journal: the LMS's real event-bus producer
→ the bus → three `event-router run` processes → a real Ralph LRS, one process killed with
SIGKILL twice while it holds work, and restarted each time (`Scenario`). A test gives the
journal's part (the routers' environment, the producer's command line, how to tell that the
victim holds work) and asserts on the `Outcome`: which statement ids Ralph stored, in which order
(Ralph's fs backend appends: its data file is in storage order), per learner.
"""

from __future__ import annotations

import json
import random
import socket
import subprocess
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from tests.peers.ralph import Ralph
from tests.peers.router import Router
from tests.support.databases import JournalRedis
from tests.support.reference import expected_ids
from tests.support.traffic import settled
from tests.support.wait import wait_until

SECRET = "scale-out"


def play(i: int) -> dict[str, Any]:
    """A distinct play_video event (its timestamp makes its statement id unique)."""
    second, micro = divmod(i, 1_000_000)
    return {
        "name": "play_video",
        "timestamp": f"2024-02-01T00:{second // 60 % 60:02d}:{second % 60:02d}.{micro:06d}+00:00",
        "data": {
            "id": "0b9e39477cf34507a7a48f74be381fdd",
            "currentTime": i % 100,
            "duration": 600,
            "code": "x",
        },
        "context": {
            "course_id": "course-v1:edX+DemoX+Demo_Course",
            "user_id": i % 50 + 1,
            "session": "s",
            "org_id": "edX",
        },
    }


def routers(tmp_path: Path, journal: JournalRedis, control_plane: str, count: int) -> list[Router]:
    env = {
        "EVENT_ROUTER_JOURNAL": journal.url,
        "EVENT_ROUTER_JOURNAL_PREFIX": journal.prefix,
        "EVENT_ROUTER_DATABASE_URL": control_plane,
        "EVENT_ROUTER_SECRET_KEY": SECRET,
        "EVENT_ROUTER_TRANSLATION_WORKERS": "0",  # 2 cores for 3 routers, a receiver and Redis
        "EVENT_ROUTER_CLAIM_IDLE": "2",
    }
    return [Router(tmp_path / f"router-{i}", environment=env) for i in range(count)]


def member(router: Router) -> str:
    """The default member name of a router process: host name and pid."""
    assert router.process is not None
    return f"{socket.gethostname()}-{router.process.pid}"


def pending_of(journal: JournalRedis, group: str) -> dict[str, int]:
    summary: Any = journal.client.xpending(journal.stream, group)
    return {c["name"].decode(): int(c["pending"]) for c in summary["consumers"]}


def statuses(journal: JournalRedis) -> dict[str, dict[str, Any]]:
    raw: Any = journal.client.hgetall(f"{journal.prefix}:status")
    return {k.decode(): orjson.loads(v) for k, v in raw.items()}


# -- the crash scenario --
COUNT = 20_000
LEARNERS = 200
KILLS_AT = (3_000, 9_000)  # statements stored (of this run) when the victim is killed


def learner_events(base: int, count: int = COUNT, learners: int = LEARNERS) -> list[dict[str, Any]]:
    """Play events of `learners` learners (user ids from `base`: fresh ids in the shared Ralph),
    interleaved; `currentTime` makes each one distinct."""
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
                "user_id": base + i % learners,
                "course_id": "course-v1:edX+DemoX+Demo_Course",
                "org_id": "edX",
                "session": f"s{i % learners}",
                "event_source": "browser",
            },
        }
        for i in range(count)
    ]


def stored(ralph: Ralph) -> list[bytes]:
    """Ralph's data file, line by line (a partial last line dropped)."""
    if not ralph.data_file.exists():
        return []
    return ralph.data_file.read_bytes().split(b"\n")[:-1]


@dataclass
class Outcome:
    """What the LMS emitted, what `transform` expects for it, what Ralph stored (in order)."""

    sent: list[dict[str, Any]]
    expected: list[str]
    order: list[str]
    kills: int
    versions: dict[str, str]

    @property
    def repeated(self) -> list[str]:
        return [i for i, n in Counter(self.order).items() if n > 1]

    def per_learner(self, ids: list[str]) -> dict[int, list[str]]:
        learner_of = {
            sid: event["context"]["user_id"]
            for sid, event in zip(self.expected, self.sent, strict=True)
        }
        by_learner: dict[int, list[str]] = defaultdict(list)
        for sid in ids:
            by_learner[learner_of[sid]].append(sid)
        return by_learner

    def out_of_order(self) -> list[int]:
        """The learners whose statements Ralph stored in another order than the LMS emitted."""
        emitted, got = self.per_learner(self.expected), self.per_learner(self.order)
        return [user for user in emitted if got[user] != emitted[user]]

    @property
    def learners(self) -> int:
        return len(self.per_learner(self.expected))


class Scenario:
    """Three router processes sharing a journal (`env`), with an `lrs` consumer to Ralph."""

    def __init__(self, tmp_path: Path, ralph: Ralph, env: dict[str, str]) -> None:
        self.tmp_path, self.ralph = tmp_path, ralph
        self.env = {**env, "EVENT_ROUTER_SECRET_KEY": SECRET}
        self.group = [Router(tmp_path / f"router-{i}", environment=self.env) for i in range(3)]
        self.group[0].add_consumer(
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
        self.victim = self.group[1]

    @contextmanager
    def running(self) -> Iterator[Scenario]:
        try:
            for router in self.group:
                router.start()
            yield self
        finally:
            for router in self.group:
                if router.process is not None:
                    router.stop()

    def play(self, producer: list[str], holds_work: Callable[[Router], object]) -> Outcome:
        """Feed 20,000 events of 200 learners through the LMS's producer (`producer`, reading the
        events as NDJSON on stdin, printing them as emitted then a line of library versions);
        kill the victim (SIGKILL) once `holds_work(victim)` after 3,000 and 9,000 statements
        are stored, restarting it each time; wait until Ralph has every expected id."""
        base = random.SystemRandom().randrange(10**8, 10**9)
        before = len(stored(self.ralph))
        sent, emitted = self.tmp_path / "events.ndjson", self.tmp_path / "emitted.ndjson"
        sent.write_text("\n".join(json.dumps(e) for e in learner_events(base)))
        kills = 0
        with sent.open() as stdin, emitted.open("w") as stdout:
            lms = subprocess.Popen(
                producer, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, text=True
            )
        try:
            for threshold in KILLS_AT:

                def reached(at: int = threshold) -> bool:
                    return len(stored(self.ralph)) - before >= at

                wait_until(reached, 400, f"{threshold} stored")
                wait_until(lambda: holds_work(self.victim), 60, "the victim has no work")
                self.victim.kill()  # SIGKILL, mid-stream, while it holds work
                kills += 1
                assert len(stored(self.ralph)) - before < COUNT, "all was stored before the kill"
                self.victim.start()
            _, err = lms.communicate(timeout=300)
            assert lms.returncode == 0, err[-2000:]
        finally:
            if lms.poll() is None:
                lms.kill()
                lms.wait()
        lines = [json.loads(line) for line in emitted.read_text().splitlines()]
        versions, events = lines[-1]["versions"], lines[:-1]
        assert len(events) == COUNT
        expected = expected_ids(self.group[0], events)
        wanted = set(expected)
        assert len(wanted) == COUNT

        def ids_in_ralph() -> list[str]:
            return [
                i
                for line in stored(self.ralph)[before:]
                if (i := orjson.loads(line).get("id")) in wanted
            ]

        wait_until(lambda: len(set(ids_in_ralph())) >= COUNT, 600, "not every statement stored")
        settled(self.group[0], {"lrs": None}, 300)  # every batch answered: no re-send to come
        return Outcome(events, expected, ids_in_ralph(), kills, versions)

    @staticmethod
    def sends(snapshots: Iterable[dict[str, Any]]) -> tuple[int, int]:
        """Statements the `lrs` consumer sent and Ralph accepted (2xx or 409), and of those the
        409s, over the members' last published figures (a killed member's up to its last
        second): beyond 20,000, what was sent again after a kill and stored once by Ralph."""
        figures = [snap.get("consumers", {}).get("lrs", {}) for snap in snapshots]
        return sum(f.get("delivered", 0) for f in figures), sum(
            f.get("duplicates", 0) for f in figures
        )

    def report(self) -> dict[str, Any]:
        """`event-router status --json` of the cluster (from any process's environment)."""
        return self.group[0].cli_status()
