"""Memory with a large backlog: peak RSS of the router while it takes in and then drains N events.

The consumer is disabled while N generated events are appended to the followed tracking log, so
they pile up in the journal (the LRS "down" for the whole ingest); then it is enabled and the
backlog drains to the fast receiver. Peak RSS (VmHWM) of the router and of its translation
workers is read after each phase; ingest and drain rates come along.

    .venv/bin/python bench/memory.py [--events 1000000]

Results: bench/results/memory.json.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import Receiver, RouterProcess, corpus, tree_peak_rss_mb, write_result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    events = corpus(args.events, "tracking-log", seed=31)
    scratch = Path(tempfile.mkdtemp(prefix="er-bench-memory-"))
    receiver = Receiver(scratch)
    log = scratch / "tracking.log"
    log.touch()
    router = RouterProcess(receiver, tracking_log=log, enabled=False)
    result: dict[str, Any] = {"events": args.events}
    try:
        result["rss_idle_mb"] = tree_peak_rss_mb(router.process.pid)
        started = time.time()
        with events.open("rb") as source, log.open("ab") as target:
            shutil.copyfileobj(source, target, 1 << 22)
        while router.journal_head() < args.events:
            time.sleep(0.5)
        ingest = time.time() - started
        result["ingest_seconds"] = round(ingest, 1)
        result["ingest_events_per_s"] = round(args.events / ingest)
        result["rss_after_ingest_mb"] = tree_peak_rss_mb(router.process.pid)
        from event_router.store import Store

        with Store.open(f"sqlite:///{router.home / 'control.db'}") as store:
            store.consumers.set_enabled("bench0", True)
        started = time.time()
        previous, still = -1, 0.0
        while True:
            received = receiver.stats()["statements"]
            if received >= args.events and received == previous:
                still += 0.5
                if still >= 2:
                    break
            else:
                previous, still = received, 0.0
            time.sleep(0.5)
        drain = time.time() - started - still
        result["drain_seconds"] = round(drain, 1)
        result["drain_events_per_s"] = round(args.events / drain)
        result["statements_received"] = received
        result["rss_peak_mb"] = tree_peak_rss_mb(router.process.pid)
        result["journal_bytes"] = sum(
            f.stat().st_size for f in router.home.glob("journal.db*") if f.is_file()
        )
    finally:
        router.stop()
        receiver.finish()
        router.cleanup()
        shutil.rmtree(scratch, ignore_errors=True)
    path = write_result("memory", result)
    after, peak = result["rss_after_ingest_mb"], result["rss_peak_mb"]
    print(
        f"{args.events:,} events: ingest {result['ingest_events_per_s']:,}/s, drain "
        f"{result['drain_events_per_s']:,}/s; peak RSS after ingest {after['total_mb']} MiB, "
        f"overall {peak['total_mb']} MiB (router {peak['main_mb']} MiB + {peak['workers']} "
        f"translation worker(s) {peak['workers_mb']} MiB)\nwrote {path}"
    )


if __name__ == "__main__":
    main()
