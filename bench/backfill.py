"""Backfill rate: N generated tracking-log events into a fast xAPI receiver with `event-router
backfill` (default 1,000,000; the goal is at most 60 s on this 2-core machine).

    .venv/bin/python bench/backfill.py [--events 1000000] [--workers N] [--gzip]

Results: bench/results/backfill.json (the backfill's own report, wall time, peak RSS).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import ROUTER, Receiver, corpus, write_result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, help="translation processes (default: one a CPU)")
    parser.add_argument("--gzip", action="store_true", help="read a gzipped copy of the log")
    args = parser.parse_args()
    events = corpus(args.events, "tracking-log", seed=41)
    scratch = Path(tempfile.mkdtemp(prefix="er-bench-backfill-"))
    if args.gzip:
        packed = events.with_suffix(".log.gz")
        if not packed.exists():
            with events.open("rb") as source, gzip.open(packed, "wb", compresslevel=6) as target:
                shutil.copyfileobj(source, target, 1 << 22)
        events = packed
    receiver = Receiver(scratch)
    home = scratch / "home"
    env = {"EVENT_ROUTER_HOME": str(home)}
    from event_router.routing.consumer import Consumer
    from event_router.store import Store

    home.mkdir()
    with Store.open(f"sqlite:///{home / 'control.db'}") as store:
        store.consumers.add(Consumer(name="lrs", protocol="xapi", url=receiver.url()))
    report = scratch / "report.json"
    command = [*ROUTER, "backfill", str(events), "-c", "lrs", "--no-progress",
               "--report-json", str(report)]  # fmt: skip
    if args.workers is not None:
        command += ["--workers", str(args.workers)]
    try:
        started = time.perf_counter()
        done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True)
        wall = time.perf_counter() - started
        received = receiver.stats()["statements"]
    finally:
        receiver.finish()
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result: dict[str, Any] = {
        "events": args.events,
        "input": events.name,
        "input_bytes": events.stat().st_size,
        "exit_code": done.returncode,
        "wall_seconds": round(wall, 2),
        "statements_received": received,
        "largest_process_peak_rss_mb": round(peak_kb / 1024, 1),
    }
    if report.exists():
        data = json.loads(report.read_text())
        result.update(
            seconds=data["seconds"],
            events_per_second=data["events_per_second"],
            delivered=data["consumers"]["lrs"]["delivered"],
            dead_letters=data["consumers"]["lrs"]["dead_letters"],
        )
    else:
        result["error"] = done.stderr[-2000:]
    shutil.rmtree(scratch, ignore_errors=True)
    path = write_result("backfill", result)
    print(
        f"backfill {args.events:,} events ({events.name}): {result.get('seconds')} s, "
        f"{result.get('events_per_second')} events/s, {received:,} statements received "
        f"(wall {result['wall_seconds']} s incl. start-up)\nwrote {path}"
    )


if __name__ == "__main__":
    main()
