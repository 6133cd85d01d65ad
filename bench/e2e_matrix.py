"""End-to-end throughput and latency, by source (tracking log, HTTP ingest) and number of consumers.

For each source and for 1 and 10 xAPI consumers (each its own path on the fast receiver):

* saturation: N generated events handed over at once (appended to the followed tracking log, or
  POSTed in NDJSON batches of 500 over 4 connections); events/s from the first write to the last
  statement at the last consumer, statements/s, and the latency of each statement (from its
  event's write or POST to its arrival: mostly queueing, at saturation);
* fixed rates: events handed over every 10 ms at R events/s for S seconds; latency p50/p99/p999.

Events come from `event-router generate` (every family; a few fan out into several statements).

    .venv/bin/python bench/e2e_matrix.py [--events 50000] [--rates 500,2000] [--seconds 10]

Results: bench/results/e2e_matrix.json and a table on stdout.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson

from harness import Receiver, RouterProcess, corpus, percentiles, write_result

SOURCES = ("tracking-log", "http")


def lines_of(path: Path, count: int) -> list[bytes]:
    out = []
    with path.open("rb") as handle:
        for line in handle:
            out.append(line.rstrip(b"\n"))
            if len(out) == count:
                break
    return out


def stamp_of(line: bytes) -> str:
    event = orjson.loads(line[line.index(b"{") :])
    return str(event.get("timestamp") or event["time"])


class Feeder:
    """Hands events to the router through one source, remembering when each went."""

    def __init__(self, source: str, router: RouterProcess, log: Path) -> None:
        self.source = source
        self.router = router
        self.log = log
        self.sent: dict[str, float] = {}
        self._lock = threading.Lock()

    def feed(self, lines: list[bytes]) -> None:
        if self.source == "tracking-log":
            now = time.time()
            with self.log.open("ab", buffering=0) as handle:
                handle.write(b"\n".join(lines) + b"\n")
            self._mark(lines, now)
            return
        with httpx.Client(timeout=60) as client:
            self._post(client, lines)

    def _post(self, client: httpx.Client, lines: list[bytes]) -> None:
        now = time.time()
        answer = client.post(
            f"{self.router.url}/api/v1/events",
            content=b"\n".join(lines),
            headers=self.router.ingest_headers,
        )
        if answer.status_code != 202:
            raise RuntimeError(f"ingest answered {answer.status_code}: {answer.text[:300]}")
        self._mark(lines, now)

    def feed_all(self, lines: list[bytes]) -> None:
        """Everything at once: the whole log in one write, or batches over 4 connections."""
        if self.source == "tracking-log":
            self.feed(lines)
            return
        batches = [lines[i : i + 500] for i in range(0, len(lines), 500)]
        local = threading.local()

        def post(batch: list[bytes]) -> None:
            if not hasattr(local, "client"):
                local.client = httpx.Client(timeout=60)
            self._post(local.client, batch)

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(post, batches))

    def _mark(self, lines: list[bytes], when: float) -> None:
        with self._lock:
            for line in lines:
                self.sent[stamp_of(line)] = when


def run(
    source: str, consumers: int, lines: list[bytes], rate: int | None, seconds: float
) -> dict[str, Any]:
    scratch = Path(tempfile.mkdtemp(prefix="er-bench-feed-"))
    receiver = Receiver(scratch, per_path=True)
    log = scratch / "tracking.log"
    log.touch()
    tuned = {"batch_size": 500, "linger": 0.02, "in_flight": 2}
    if rate is not None:
        tuned = {"batch_size": 100, "linger": 0.005, "in_flight": 1}
    router = RouterProcess(
        receiver,
        consumers=consumers,
        tracking_log=log if source == "tracking-log" else None,
        **tuned,  # type: ignore[arg-type]
    )
    feeder = Feeder(source, router, log)
    try:
        if rate is None:
            used = lines
            started = time.time()
            feeder.feed_all(used)
        else:
            used = lines[: int(rate * seconds)]
            per_tick = max(1, int(rate * 0.01))
            started = next_at = time.time()
            for start in range(0, len(used), per_tick):
                feeder.feed(used[start : start + per_tick])
                next_at += 0.01
                time.sleep(max(0.0, next_at - time.time()))
        # Every statement arrived once the count reaches one per event and consumer (fan-outs
        # add more) and then stays put for a moment.
        wanted = len({stamp_of(line) for line in used}) * consumers
        deadline = time.time() + 600
        previous, still = -1, 0.0
        while time.time() < deadline:
            count = receiver.stats()["statements"]
            if count >= wanted and count == previous:
                still += 0.05
                if still >= 0.5:
                    break
            else:
                previous, still = count, 0.0
            time.sleep(0.05)
        router.stop()
        arrivals = receiver.finish()
    finally:
        router.stop()
        router.cleanup()
        shutil.rmtree(scratch, ignore_errors=True)
    delays = []
    last = 0.0
    for index in range(consumers):
        for stamp, sent in feeder.sent.items():
            arrived = arrivals.get(f"/c{index}/statements {stamp}")
            if arrived is not None:
                delays.append((arrived - sent) * 1000)
                last = max(last, arrived)
    events = len(feeder.sent)
    out: dict[str, Any] = {
        "source": source,
        "consumers": consumers,
        "mode": "saturation" if rate is None else f"{rate} events/s",
        "events": events,
        "arrived": len(delays),
        "expected": events * consumers,
    }
    if rate is None and last:
        elapsed = last - started
        out["seconds"] = round(elapsed, 3)
        out["events_per_s"] = round(events / elapsed)
        out["deliveries_per_s"] = round(events * consumers / elapsed)
    out.update(percentiles(delays))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000, help="saturation, 1 consumer")
    parser.add_argument("--events-10", type=int, default=15_000, help="saturation, 10 consumers")
    parser.add_argument("--rates", default="500,2000", help="fixed rates, events/s")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--sources", default=",".join(SOURCES))
    parser.add_argument("--consumers", default="1,10")
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",") if r]
    biggest = max(args.events, args.events_10, max(rates, default=0) * int(args.seconds) + 1)
    files = {
        "tracking-log": corpus(biggest, "tracking-log", seed=11),
        "http": corpus(biggest, "event-tracking", seed=11),
    }
    rows = []
    for source in args.sources.split(","):
        lines = lines_of(files[source], biggest)
        for consumers in (int(c) for c in args.consumers.split(",")):
            count = args.events if consumers == 1 else args.events_10
            rows.append(run(source, consumers, lines[:count], None, args.seconds))
            print(row_text(rows[-1]), flush=True)
            for rate in rates:
                rows.append(run(source, consumers, lines, rate, args.seconds))
                print(row_text(rows[-1]), flush=True)
    path = write_result("e2e_matrix", {"rows": rows})
    print(f"wrote {path}")


def row_text(row: dict[str, Any]) -> str:
    rate = f"{row['events_per_s']:>7,} ev/s" if "events_per_s" in row else " " * 12
    return (
        f"{row['source']:>12} x{row['consumers']:<2} {row['mode']:>15}: {rate} "
        f"p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, p999 {row['p999_ms']} ms "
        f"({row['arrived']}/{row['expected']} arrived)"
    )


if __name__ == "__main__":
    main()
