"""Scale-out benchmark: HTTP ingest → N router processes on one Redis journal → one xAPI receiver.

For each process count (default 1 and 2): a fresh key prefix on Redis (127.0.0.1:6379), a fresh
control-plane database on PostgreSQL (127.0.0.1:5432), one xAPI consumer, N `event-router run`
processes sharing its consumer group, and the minimal fast receiver (bench/receiver.py). The
events (the e2e benchmark's play_video events, unique timestamps) are POSTed as NDJSON bodies to
the processes in turn by two client threads; events/s is measured from the first POST to the
last statement received. Each process translates in its own main thread
(EVENT_ROUTER_TRANSLATION_WORKERS=0), so N processes use up to N cores.

    .venv/bin/python bench/scaleout.py [--count 50000] [--processes 1 2] [--chunk 1000]
        [--full-context]    # realistic ~1.2 kB events instead of ~450-byte ones

Results go to bench/results/scaleout.json (scaleout-full-context.json with --full-context) and
a table on stdout.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson
import redis
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import PREFIX, free_port, line  # a sibling script, not a package

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
REDIS_URL = "redis://127.0.0.1:6379/0"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TOKEN = "bench-token"


def bodies(count: int, chunk: int, make: Any = None) -> list[bytes]:
    """NDJSON bodies of `chunk` events each (the tracking-log layout, as an LMS backend sends);
    `make(i)` builds event i's line (default: the e2e benchmark's)."""
    make = make or line
    events = [make(i)[len(PREFIX) :] for i in range(count)]
    return [b"".join(events[i : i + chunk]) for i in range(0, count, chunk)]


class Cluster:
    """N router processes on a fresh Redis prefix and PostgreSQL database, and a receiver."""

    def __init__(
        self,
        processes: int,
        batch_size: int,
        in_flight: int,
        journal: dict[str, str] | None = None,
    ) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="er-scaleout-"))
        self.prefix = f"bench-{uuid.uuid4().hex[:10]}"
        self.database = f"er_bench_{uuid.uuid4().hex[:10]}"
        self.admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{self.database}"')
        self.port = free_port()
        self.env = {
            **os.environ,
            "EVENT_ROUTER_HOME": str(self.dir / "home"),
            "EVENT_ROUTER_SECRET_KEY": "bench",
            "EVENT_ROUTER_JOURNAL": REDIS_URL,
            "EVENT_ROUTER_JOURNAL_PREFIX": self.prefix,
            **(journal or {}),
            "EVENT_ROUTER_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/"
            f"{self.database}",
            "EVENT_ROUTER_TRANSLATION_WORKERS": "0",
            "EVENT_ROUTER_INGEST_TOKEN": TOKEN,
        }
        subprocess.run(
            [sys.executable, "-m", "event_router", "consumers", "add", "bench", "--protocol",
             "xapi", "--url", f"http://127.0.0.1:{self.port}/xapi/statements", "--batch-size",
             str(batch_size), "--linger", "0.02", "--max-in-flight", str(in_flight)],
            env=self.env, check=True, capture_output=True,
        )  # fmt: skip
        self.out = self.dir / "arrivals.json"
        self.receiver = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "receiver.py"), str(self.port), str(self.out)]
        )
        self.urls: list[str] = []
        self.routers: list[subprocess.Popen[bytes]] = []
        for _ in range(processes):
            port = free_port()
            self.urls.append(f"http://127.0.0.1:{port}/api/v1/events")
            args = ["run", "--listen", f"127.0.0.1:{port}", "--log-level", "warning"]
            command = [sys.executable, "-m", "event_router", *args]
            self.routers.append(subprocess.Popen(command, env=self.env))
        for url in self.urls:
            self._wait_ready(url.replace("/api/v1/events", "/ready"))
        time.sleep(1.5)  # first consumer sync: every process has joined the group

    @staticmethod
    def _wait_ready(url: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"router at {url} not ready")

    def received(self) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        conn.request("GET", "/stats")
        value = orjson.loads(conn.getresponse().read())["statements"]
        conn.close()
        return int(value)

    def cpu_seconds(self) -> float:
        """CPU time the router processes used so far (user + system, from /proc)."""
        total = 0
        for router in self.routers:
            fields = Path(f"/proc/{router.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")

    def close(self) -> dict[str, float]:
        for router in self.routers:
            router.send_signal(signal.SIGTERM)
        for router in self.routers:
            router.wait(60)
        self.receiver.send_signal(signal.SIGTERM)
        self.receiver.wait(60)
        client = redis.Redis.from_url(REDIS_URL)  # (nothing there with a Kafka journal)
        keys = list(client.scan_iter(match=f"{self.prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        self.admin.dispose()
        return orjson.loads(self.out.read_bytes())["arrivals"]  # type: ignore[no-any-return]


def measure(
    processes: int,
    count: int,
    chunk: int,
    batch_size: int,
    in_flight: int,
    journal: dict[str, str] | None = None,
    make: Any = None,
    ready: Any = None,
) -> dict[str, Any]:
    payloads = bodies(count, chunk, make)
    cluster = Cluster(processes, batch_size, in_flight, journal)
    try:
        if ready is not None:
            ready(cluster)  # e.g. every process has joined the consumer's group
        clients = [httpx.Client(timeout=60) for _ in cluster.urls]

        def post(index: int) -> None:
            which = index % len(cluster.urls)
            answer = clients[which].post(
                cluster.urls[which],
                content=payloads[index],
                headers={
                    "Content-Type": "application/x-ndjson",
                    "Authorization": f"Bearer {TOKEN}",
                },
            )
            answer.raise_for_status()

        start = time.time()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(post, range(len(payloads))))
        ingested = time.time() - start
        deadline = time.time() + 600
        while cluster.received() < count and time.time() < deadline:
            time.sleep(0.05)
        for client in clients:
            client.close()
        cpu = cluster.cpu_seconds()
    finally:
        arrivals = cluster.close()
    if len(arrivals) < count:
        raise RuntimeError(f"only {len(arrivals)} of {count} statements arrived")
    seconds = max(arrivals.values()) - start
    return {
        "processes": processes,
        "events": count,
        "event_bytes": round(sum(len(p) for p in payloads) / count),
        "ingest_seconds": round(ingested, 3),
        "ingest_events_per_s": round(count / ingested),
        "seconds": round(seconds, 3),
        "events_per_s": round(count / seconds),
        "router_cpu_seconds": round(cpu, 2),  # all processes, start-up included
        "events_per_router_cpu_s": round(count / cpu),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--chunk", type=int, default=1000, help="events per POST")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--max-in-flight", type=int, default=2)
    parser.add_argument(
        "--full-context",
        action="store_true",
        help="realistic ~1.2 kB events (bench/kafka_journal.py's), not the e2e benchmark's",
    )
    args = parser.parse_args()
    make = None
    if args.full_context:
        from kafka_journal import full_line

        make = full_line
    rows = [
        measure(n, args.count, args.chunk, args.batch_size, args.max_in_flight, None, make)
        for n in args.processes
    ]
    result = {"runs": rows, "cpus": os.cpu_count(), "redis_persistence": _persistence()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "scaleout-full-context.json" if args.full_context else "scaleout.json"
    (RESULTS / name).write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    print(
        f"{'processes':>9}  {'events':>7}  {'ingest ev/s':>11}  {'end-to-end s':>12}  {'ev/s':>7}"
    )
    for row in rows:
        print(
            f"{row['processes']:>9}  {row['events']:>7}  {row['ingest_events_per_s']:>11}  "
            f"{row['seconds']:>12}  {row['events_per_s']:>7}  "
            f"({row['events_per_router_cpu_s']} per router CPU-s)"
        )


def _persistence() -> dict[str, str]:
    """The Redis server's persistence settings the figures were measured with."""
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        settings: dict[str, str] = {}
        for key in ("appendonly", "appendfsync", "save"):
            settings.update(client.config_get(key))
        return settings
    finally:
        client.close()


if __name__ == "__main__":
    main()
