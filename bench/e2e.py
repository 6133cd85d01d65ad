"""End-to-end benchmark: tracking log → router (durable journal) → xAPI sink on 127.0.0.1.

Two measurements, each with a fresh home and a minimal fast receiver (bench/receiver.py) in its
own process:

* throughput: N events appended to the followed tracking log at once; events/s from the first
  write to the last statement received (the router's whole pipeline, journal fsyncs included);
* latency: events written at a fixed rate (default 1,000/s) for some seconds; per event, the
  time from the write to the log to its arrival at the receiver; p50 / p99 / p999.

    .venv/bin/python bench/e2e.py [--count 200000] [--repeat 3] [--rate 1000] [--seconds 10]

Results go to bench/results/e2e.json and a table on stdout.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from harness import cpu_seconds, tree_cpu_seconds

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PREFIX = b"2024-01-01 00:00:00,000 INFO 20 [tracking] [user 3] [ip 127.0.0.1] logger.py:41 - "


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stamp(i: int) -> str:
    """A unique, valid timestamp per event index (the receiver keys arrivals on it).

    Microseconds are never zero: Python's isoformat drops `.000000`, which would change the key.
    """
    seconds, micros = divmod(i, 999_999)
    micros += 1
    clock = f"{seconds // 3600 % 24:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return f"2024-03-01T{clock}.{micros:06d}+00:00"


def line(i: int) -> bytes:
    event = {
        "name": "play_video",
        "event_type": "play_video",
        "time": stamp(i),
        "username": f"learner{i % 5000}",
        "session": "be0c0a9fbd0b46d6b2a1d4c1f8a0e3aa",
        "event_source": "browser",
        "host": "lms.example.com",
        "event": orjson.dumps(
            {"id": "0b9e39477cf34507a7a48f74be381fdd", "currentTime": i % 600, "code": "html5"}
        ).decode(),
        "context": {
            "course_id": "course-v1:edX+DemoX+Demo_Course",
            "org_id": "edX",
            "user_id": i % 5000 + 1,
            "path": "/event",
        },
    }
    return PREFIX + orjson.dumps(event) + b"\n"


class Setup:
    """A home with one xAPI consumer, a receiver process and a router process."""

    def __init__(self, batch_size: int, linger: float, in_flight: int) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="er-bench-"))
        self.log = self.dir / "tracking.log"
        self.log.touch()
        self.port = free_port()
        self.out = self.dir / "arrivals.json"
        env = {**os.environ, "EVENT_ROUTER_HOME": str(self.dir / "home")}
        self.env = env
        subprocess.run(
            [sys.executable, "-m", "event_router", "consumers", "add", "bench", "--protocol",
             "xapi", "--url", f"http://127.0.0.1:{self.port}/xapi/statements", "--batch-size",
             str(batch_size), "--linger", str(linger), "--max-in-flight", str(in_flight)],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        self.receiver = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "receiver.py"), str(self.port), str(self.out)]
        )
        self.router = subprocess.Popen(
            [sys.executable, "-m", "event_router", "run", "--tracking-log", str(self.log),
             "--listen", f"127.0.0.1:{free_port()}", "--log-level", "warning"],
            env=env,
        )  # fmt: skip
        time.sleep(2.5)  # start-up, first consumer sync

    def received(self) -> int:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        conn.request("GET", "/stats")
        value = orjson.loads(conn.getresponse().read())["statements"]
        conn.close()
        return int(value)

    def finish(self) -> dict[str, float]:
        self.router.send_signal(signal.SIGTERM)
        self.router.wait(60)
        self.receiver.send_signal(signal.SIGTERM)
        self.receiver.wait(60)
        return orjson.loads(self.out.read_bytes())["arrivals"]  # type: ignore[no-any-return]


def throughput(count: int, batch_size: int, in_flight: int) -> dict[str, Any]:
    """One run: `count` events appended at once; events/s and CPU seconds per process."""
    setup = Setup(batch_size, 0.02, in_flight)
    data = b"".join(line(i) for i in range(count))
    before = tree_cpu_seconds(setup.router.pid), cpu_seconds(setup.receiver.pid)
    start = time.time()
    with setup.log.open("ab") as handle:
        handle.write(data)
    while setup.received() < count:
        time.sleep(0.05)
    after = tree_cpu_seconds(setup.router.pid), cpu_seconds(setup.receiver.pid)
    arrivals = setup.finish()
    seconds = max(arrivals.values()) - start
    workers = [after[0][k] - before[0].get(k, 0.0) for k in after[0] if k != "main"]
    cpu = {
        "router_main": round(after[0]["main"] - before[0]["main"], 2),
        "translation_workers": round(sum(workers), 2),
        "receiver": round(after[1] - before[1], 2),
    }
    return {
        "events": count,
        "seconds": round(seconds, 3),
        "events_per_s": round(count / seconds),
        "cpu_seconds": cpu,
    }


def throughputs(count: int, batch_size: int, in_flight: int, repeat: int) -> dict[str, Any]:
    """`repeat` runs (this machine's speed varies from minute to minute): each, and the median."""
    runs = [throughput(count, batch_size, in_flight) for _ in range(repeat)]
    rates = sorted(r["events_per_s"] for r in runs)
    return {
        "events": count,
        "runs": runs,
        "events_per_s": statistics.median(rates),
        "best_events_per_s": rates[-1],
    }


def latency(rate: int, seconds: float) -> dict[str, Any]:
    setup = Setup(100, 0.005, 1)
    written: dict[str, float] = {}
    tick = 0.01
    per_tick = max(1, int(rate * tick))
    total = int(rate * seconds)
    i = 0
    next_at = time.time()
    with setup.log.open("ab", buffering=0) as handle:
        while i < total:
            chunk = b"".join(line(j) for j in range(i, i + per_tick))
            now = time.time()
            handle.write(chunk)
            for j in range(i, i + per_tick):
                written[stamp(j)] = now
            i += per_tick
            next_at += tick
            time.sleep(max(0.0, next_at - time.time()))
    deadline = time.time() + 30
    while setup.received() < total and time.time() < deadline:
        time.sleep(0.05)
    arrivals = setup.finish()
    delays = sorted((arrivals[k] - t) * 1000 for k, t in written.items() if k in arrivals)

    def pct(q: float) -> float:
        return round(delays[min(len(delays) - 1, int(q * len(delays)))], 2)

    return {
        "rate": rate,
        "events": total,
        "received": len(delays),
        "p50_ms": pct(0.5),
        "p99_ms": pct(0.99),
        "p999_ms": pct(0.999),
        "max_ms": round(delays[-1], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--max-in-flight", type=int, default=2)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="throughput runs (median shown)")
    args = parser.parse_args()
    result = {
        "throughput": throughputs(args.count, args.batch_size, args.max_in_flight, args.repeat),
        "latency": latency(args.rate, args.seconds),
        "cpus": os.cpu_count(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "e2e.json").write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    t, lat = result["throughput"], result["latency"]
    for run in t["runs"]:
        cpu = ", ".join(f"{k} {v} s" for k, v in run["cpu_seconds"].items())
        print(f"  run: {run['events']} events in {run['seconds']} s = {run['events_per_s']} ev/s"
              f" (CPU: {cpu})")  # fmt: skip
    print(
        f"throughput: median {t['events_per_s']} ev/s of {len(t['runs'])} runs "
        f"(best {t['best_events_per_s']})"
    )
    print(
        f"latency at {lat['rate']} ev/s: p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms, "
        f"p999 {lat['p999_ms']} ms ({lat['received']}/{lat['events']} received)"
    )


if __name__ == "__main__":
    main()
