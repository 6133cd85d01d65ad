"""Memory with a large backlog: the router's resident set while it takes in, then drains N events.

The consumer is disabled while N generated events (full-context, ~1.2 kB each) are appended to
the followed tracking log, so they pile up in the journal (the LRS "down" for the whole ingest);
then it is enabled and the backlog drains to the fast receiver. The resident set of the router
and of its translation workers is sampled every 0.2 s: the peak of their sum, per phase, is the
figure (a sum of per-process peaks, VmHWM, is also recorded: an upper bound). Ingest and drain
rates come along.

    .venv/bin/python bench/memory.py [--events 1000000]

Results: bench/results/memory.json, and one line per figure on stdout. With BENCH_TRACEMALLOC=FILE
the router runs under tracemalloc (see bench/traced_router.py): slower, to find memory's owners.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import (
    Receiver,
    RouterProcess,
    RssSampler,
    corpus,
    mean_event_bytes,
    tree_peak_rss_mb,
    write_result,
)


def wait_drained(receiver: Receiver, router: RouterProcess, events: int) -> float:
    """Seconds until the consumer's cursor reached the journal's head (every event settled)."""
    started = time.time()
    while router.cursor("bench0") < events:
        time.sleep(0.25)
    del receiver
    return time.time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    events = corpus(args.events, "tracking-log", seed=31)
    size = mean_event_bytes(events)
    scratch = Path(tempfile.mkdtemp(prefix="er-bench-memory-"))
    receiver = Receiver(scratch)
    log = scratch / "tracking.log"
    log.touch()
    router = RouterProcess(receiver, tracking_log=log, enabled=False)
    sampler = RssSampler(router.process.pid)
    result: dict[str, Any] = {"events": args.events, "event_bytes": size}
    try:
        idle = sampler.peak["total_mb"]
        sampler.mark("ingest")
        started = time.time()
        with events.open("rb") as source, log.open("ab") as target:
            shutil.copyfileobj(source, target, 1 << 22)
        while router.journal_head() < args.events:
            time.sleep(0.25)
        ingest = time.time() - started
        result["ingest_seconds"] = round(ingest, 1)
        result["ingest_events_per_s"] = round(args.events / ingest)
        result["rss_after_ingest_mb"] = dict(sampler.peak)
        sampler.mark("drain")
        from event_router.store import Store

        with Store.open(f"sqlite:///{router.home / 'control.db'}") as store:
            store.consumers.set_enabled("bench0", True)
        drain = wait_drained(receiver, router, args.events)
        result["drain_seconds"] = round(drain, 1)
        result["drain_events_per_s"] = round(args.events / drain)
        result["statements_received"] = receiver.stats()["statements"]
        result["rss_peak_mb"] = dict(sampler.peak)
        result["rss_idle_mb"] = idle
        result["vmhwm_mb"] = tree_peak_rss_mb(router.process.pid)
        result["journal_bytes"] = sum(
            f.stat().st_size for f in router.home.glob("journal.db*") if f.is_file()
        )
    finally:
        sampler.stop()
        result["rss_timeline"] = sampler.timeline[::5]  # one sample a second
        router.stop()
        receiver.finish()
        router.cleanup()
        shutil.rmtree(scratch, ignore_errors=True)
    path = write_result("memory", result)
    after, peak = result["rss_after_ingest_mb"], result["rss_peak_mb"]
    n = f"{args.events:,} events of {size} B"
    print(f"memory: ingest {n}: {result['ingest_events_per_s']:,} events/s")
    print(f"memory: drain {n}: {result['drain_events_per_s']:,} events/s")
    print(f"memory: peak RSS while ingesting {n}: {after['total_mb']} MiB")
    print(
        f"memory: peak RSS while draining {n}: {peak['total_mb']} MiB (router "
        f"{peak['main_mb']} + {result['vmhwm_mb']['workers']} worker(s) {peak['workers_mb']})"
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
