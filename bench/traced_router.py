"""`event-router` under tracemalloc or cProfile, to find where its memory or CPU goes (a bench aid).

    BENCH_TRACEMALLOC=/tmp/trace .venv/bin/python bench/memory.py --events 200000
    BENCH_PROFILE=/tmp/router.prof .venv/bin/python bench/e2e.py --repeat 1 --skip latency

With either set, the harness starts the router through this file. `BENCH_TRACEMALLOC`: every 5
seconds the 25 biggest allocation sites (by line) and the traced total are appended to that file.
`BENCH_PROFILE`: the main thread's profile is written there when the router stops (read it with
`python -m pstats`). Both make the router slower: use them to find owners, not to time anything.
"""

from __future__ import annotations

import os
import runpy
import sys
import threading
import time
import tracemalloc


def report(path: str, every: float = 5.0) -> None:
    peak_seen = 0
    while True:
        time.sleep(every)
        current, peak = tracemalloc.get_traced_memory()
        snapshot = tracemalloc.take_snapshot()
        top = snapshot.statistics("lineno")[:25]
        if current < peak_seen * 0.8 and current < 50 << 20:
            continue  # nothing interesting
        peak_seen = max(peak_seen, current)
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"== {time.strftime('%H:%M:%S')} traced {current / 2**20:.1f} MiB "
                      f"(peak {peak / 2**20:.1f} MiB)\n")  # fmt: skip
            out.writelines(f"{stat}\n" for stat in top)


def profiled(path: str) -> None:
    import cProfile

    profile = cProfile.Profile()
    profile.enable()
    try:
        runpy.run_module("event_router", run_name="__main__", alter_sys=True)
    finally:
        profile.disable()
        profile.dump_stats(path)


if __name__ == "__main__":
    sys.argv[0] = "event-router"
    if os.environ.get("BENCH_PROFILE"):
        profiled(os.environ["BENCH_PROFILE"])
    else:
        tracemalloc.start(1)
        where = os.environ["BENCH_TRACEMALLOC"]
        threading.Thread(target=report, args=(where,), daemon=True).start()
        runpy.run_module("event_router", run_name="__main__", alter_sys=True)
