"""Event-bus and LMS-backend figures on this machine (Redis at 127.0.0.1:6379).

    .venv/bin/python bench/bus.py [--events 50000]

- bus ingest: events XADDed in the LMS producer's format, then read by `BusSource` into a fresh
  SQLite journal (synchronous=FULL), committed and acked: events per second;
- LMS backend `send()`: the cost a learner's request pays per tracking event (buffer only);
- LMS backend throughput: events forwarded to a running router's HTTP ingest per second.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.peers.bus import REDIS_URL, BusRedis  # noqa: E402
from tests.peers.router import INGEST_TOKEN, Router  # noqa: E402

from event_router.integrations.eventtracking import EventRouterBackend  # noqa: E402
from event_router.journal import SqliteJournal  # noqa: E402
from event_router.sources.bus import BusSource  # noqa: E402


def event(i: int) -> dict[str, object]:
    return {
        "name": "play_video",
        "timestamp": f"2024-03-05T10:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1_000_000:06d}+00:00",
        "data": {"id": "0b9e39477cf34507a7a48f74be381fdd", "currentTime": i % 300, "code": "x"},
        "context": {
            "user_id": i % 5000,
            "username": f"learner{i % 5000}",
            "course_id": "course-v1:edX+DemoX+Demo_Course",
            "org_id": "edX",
            "session": "e4b5b5a2c2a0d2c7",
            "path": "/event",
            "event_source": "browser",
        },
    }


def bus_ingest(count: int, home: Path) -> float:
    import redis

    bus = BusRedis(redis.Redis.from_url(REDIS_URL))
    try:
        stream = bus.stream()
        bus.publish_many(stream, [event(i) for i in range(count)])
        journal = SqliteJournal(home / "journal.db")
        reader = BusSource(journal, REDIS_URL, "analytics", prefix=bus.prefix, block=0.05)

        async def run() -> float:
            stop = asyncio.Event()
            started = time.perf_counter()
            task = asyncio.create_task(reader.run(stop))
            while reader.counts["accepted"] < count:
                await asyncio.sleep(0.005)
            elapsed = time.perf_counter() - started
            stop.set()
            await task
            return elapsed

        elapsed = asyncio.run(run())
        journal.close()
        return count / elapsed
    finally:
        bus.cleanup()


def backend(count: int, home: Path) -> tuple[float, float, float]:
    router = Router(home / "router")
    router.start()
    try:
        sender = EventRouterBackend(
            router.url, token=INGEST_TOKEN, spool_dir=str(home / "spool"), buffer_size=count
        )
        costs = []
        started = time.perf_counter()
        for i in range(count):
            t = time.perf_counter()
            sender.send(event(i))
            costs.append(time.perf_counter() - t)
        assert sender.flush(120)
        elapsed = time.perf_counter() - started
        assert sender.stats["sent"] == count, sender.stats
        sender.close()
    finally:
        router.stop()
    costs.sort()
    return statistics.median(costs) * 1e6, costs[int(len(costs) * 0.99)] * 1e6, count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rate = bus_ingest(args.events, Path(tmp))
        print(f"bus ingest: {args.events} events, {rate:,.0f} events/s (commit + XACK)")
        median, p99, throughput = backend(args.events, Path(tmp))
        print(f"LMS backend send(): median {median:.1f} µs, p99 {p99:.1f} µs per event")
        print(f"LMS backend → router ingest: {throughput:,.0f} events/s")


if __name__ == "__main__":
    main()
