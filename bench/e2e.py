"""End-to-end benchmark on realistic events: tracking log → router (durable journal) → sinks.

Events are full-context Open edX events — `event-router generate` (every family, ~1.2 kB each) or,
with `--corpus erb`, ERB's own fixtures re-keyed (bench/corpus.py, ~1.1 kB) — never minimal lines:
the mean event size is printed beside every figure. Each measurement has a fresh home, the router
as an operator starts it (SQLite journal, synchronous=FULL) and the fast receiver
(bench/receiver.py) in its own process:

* throughput: N events appended to the followed tracking log at once, one xAPI consumer (batches
  of 500, two in flight); events/s from the first write to the last statement received, once
  the consumer's cursor has passed every event (journal fsyncs included);
* latency: events written at a fixed rate (default 1,000/s) for some seconds to eight consumers
  of mixed protocols (`harness.MIXED`: xAPI to LRSs and a webhook, Caliper, signed edX
  webhooks); per event and consumer, the time from the write to the log to its arrival;
  p50 / p99 / p999 over every delivery, and the worst consumer's p99. (An item is matched to
  its event by time; the ~5 % of events whose statements carry another time — exam attempts,
  grade calculations — are delivered but not timed.)

    .venv/bin/python bench/e2e.py [--count 200000] [--repeat 3] [--rate 1000] [--seconds 10]

Results go to bench/results/e2e.json and one line per figure on stdout.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from harness import (
    MIXED,
    Receiver,
    RouterProcess,
    corpus,
    cpu_seconds,
    describe_consumers,
    erb_corpus,
    mean_event_bytes,
    percentiles,
    settled,
    stamp_ms,
    tree_cpu_seconds,
    write_result,
)


def events_file(kind: str, count: int) -> Path:
    if kind == "erb":
        return erb_corpus(count, seed=11)
    return corpus(count, "tracking-log", seed=11)


def throughput(events: Path, count: int, batch_size: int, in_flight: int) -> dict[str, Any]:
    """One run: `count` events appended at once; events/s and CPU seconds per process."""
    scratch = Path(tempfile.mkdtemp(prefix="er-bench-e2e-"))
    receiver = Receiver(scratch)
    log = scratch / "tracking.log"
    log.touch()
    router = RouterProcess(
        receiver, tracking_log=log, batch_size=batch_size, linger=0.02, in_flight=in_flight
    )
    data = events.read_bytes()
    try:
        before = tree_cpu_seconds(router.process.pid), cpu_seconds(receiver.process.pid)
        start = time.time()
        with log.open("ab") as handle:
            handle.write(data)
        settled(router, count)
        after = tree_cpu_seconds(router.process.pid), cpu_seconds(receiver.process.pid)
        statements = receiver.stats()["statements"]
        router.stop()
        arrivals = receiver.finish()
    finally:
        router.stop()
        router.cleanup()
        shutil.rmtree(scratch, ignore_errors=True)
    seconds = max(arrivals.values()) - start
    workers = [after[0][k] - before[0].get(k, 0.0) for k in after[0] if k != "main"]
    return {
        "events": count,
        "statements": statements,
        "seconds": round(seconds, 3),
        "events_per_s": round(count / seconds),
        "cpu_seconds": {
            "router_main": round(after[0]["main"] - before[0]["main"], 2),
            "translation_workers": round(sum(workers), 2),
            "receiver": round(after[1] - before[1], 2),
        },
    }


def throughputs(
    events: Path, count: int, batch_size: int, in_flight: int, repeat: int
) -> dict[str, Any]:
    """`repeat` runs (this machine's speed varies from minute to minute): each, and the median."""
    runs = [throughput(events, count, batch_size, in_flight) for _ in range(repeat)]
    rates = sorted(r["events_per_s"] for r in runs)
    return {
        "events": count,
        "runs": runs,
        "events_per_s": statistics.median(rates),
        "best_events_per_s": rates[-1],
    }


def restamped(lines: list[bytes], start: float) -> list[tuple[bytes, int]]:
    """Each line with its event time replaced by a unique one, 1 ms apart (so every protocol's
    item — Caliper keeps milliseconds — names its event), and that time in ms."""
    out = []
    for index, line in enumerate(lines):
        event = orjson.loads(line[line.index(b"{") :])
        key = "timestamp" if "timestamp" in event else "time"
        old = str(event[key])
        moment = start + index / 1000
        new = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment))
        new += f".{round(moment * 1000) % 1000:03d}000+00:00"
        out.append((line.replace(old.encode(), new.encode(), 1), stamp_ms(new)))
    return out


def latency(events: Path, rate: int, seconds: float, consumers: list[dict[str, Any]]) -> dict:
    """Events written every 10 ms at `rate` events/s; per delivery, write → arrival."""
    total = int(rate * seconds)
    with events.open("rb") as handle:
        lines = [line.rstrip(b"\n") for _, line in zip(range(total), handle, strict=False)]
    stamped = restamped(lines, 1_700_000_000.0)
    scratch = Path(tempfile.mkdtemp(prefix="er-bench-e2e-"))
    receiver = Receiver(scratch, per_path=True)
    log = scratch / "tracking.log"
    log.touch()
    router = RouterProcess(
        receiver, consumers=consumers, tracking_log=log, batch_size=100, linger=0.005, in_flight=1
    )
    written: dict[int, float] = {}
    tick = 0.01
    per_tick = max(1, int(rate * tick))
    try:
        next_at = time.time()
        with log.open("ab", buffering=0) as handle:
            for i in range(0, total, per_tick):
                chunk = stamped[i : i + per_tick]
                now = time.time()
                handle.write(b"".join(line + b"\n" for line, _ in chunk))
                for _, key in chunk:
                    written[key] = now
                next_at += tick
                time.sleep(max(0.0, next_at - time.time()))
        settled(router, total, timeout=120)
        router.stop()
        arrivals = receiver.finish()
    finally:
        router.stop()
        router.cleanup()
        shutil.rmtree(scratch, ignore_errors=True)
    by_consumer: dict[str, list[float]] = {}
    for key, moment in arrivals.items():
        path, _, stamp = key.partition(" ")
        sent = written.get(stamp_ms(stamp)) if stamp else None
        if sent is not None:
            by_consumer.setdefault(path, []).append((moment - sent) * 1000)
    every = [value for values in by_consumer.values() for value in values]
    worst = max((percentiles(v)["p99_ms"] or 0.0, p) for p, v in by_consumer.items())
    return {
        "rate": rate,
        "events": total,
        "consumers": describe_consumers(consumers),
        "deliveries": len(every),
        "per_consumer": {p: {"received": len(v), **percentiles(v)} for p, v in by_consumer.items()},
        **percentiles(every),
        "worst_consumer_p99_ms": worst[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", choices=("generated", "erb"), default="generated")
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--max-in-flight", type=int, default=2)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--consumers", type=int, default=8, help="latency: the first N of MIXED")
    parser.add_argument("--repeat", type=int, default=3, help="throughput runs (median shown)")
    parser.add_argument("--skip", choices=("throughput", "latency"), help="leave one out")
    args = parser.parse_args()
    events = events_file(args.corpus, max(args.count, int(args.rate * args.seconds)))
    size = mean_event_bytes(events)
    result: dict[str, Any] = {"corpus": args.corpus, "event_bytes": size, "cpus": os.cpu_count()}
    if args.skip != "throughput":
        result["throughput"] = throughputs(
            events_file(args.corpus, args.count),
            args.count,
            args.batch_size,
            args.max_in_flight,
            args.repeat,
        )
    if args.skip != "latency":
        mixed = (MIXED * 2)[: args.consumers]
        result["latency"] = latency(events, args.rate, args.seconds, mixed)
    path = write_result("e2e", result)
    if "throughput" in result:
        t = result["throughput"]
        for run in t["runs"]:
            cpu = ", ".join(f"{k} {v} s" for k, v in run["cpu_seconds"].items())
            print(f"  run: {run['events']} events in {run['seconds']} s = "
                  f"{run['events_per_s']} events/s (CPU: {cpu})")  # fmt: skip
        print(f"e2e throughput, 1 xAPI consumer, {t['events']:,} {args.corpus} events of {size} B: "
              f"median {t['events_per_s']:,} events/s of {len(t['runs'])} runs "
              f"(best {t['best_events_per_s']:,})")  # fmt: skip
    if "latency" in result:
        lat = result["latency"]
        print(f"e2e latency at {lat['rate']:,} events/s, {args.consumers} consumers "
              f"({lat['consumers']}), {args.corpus} events of {size} B: p50 {lat['p50_ms']} ms, "
              f"p99 {lat['p99_ms']} ms, p999 {lat['p999_ms']} ms; worst consumer p99 "
              f"{lat['worst_consumer_p99_ms']} ms ({lat['deliveries']:,} deliveries)")  # fmt: skip
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
