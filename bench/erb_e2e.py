"""Side by side, end to end: ERB's synchronous routing against the router, same events, same LRS.

The events are realistic: by default ERB's own fixture corpus (bench/corpus.py: every ERB input
fixture re-keyed, ~1.1 kB each; every one is an event both translate), or `--corpus generated`
(`event-router generate`, event-tracking layout, ~1.1 kB; some of its families ERB skips). The
mean event size is printed with the figures.

* ERB: `SyncEventsRouter.send()` per event (what its event-bus consumer does), xAPI processor,
  one enabled router configuration pointing at the fast receiver (bench/erb/erb_route.py, in the
  ERB venv). Timed loop: transform + route + one HTTP request per statement.
* the router: `event-router run` following a tracking log holding the same events, one xAPI
  consumer on another fast receiver; from the write to the last statement received (journal
  fsyncs included).

    .venv/bin/python bench/erb_e2e.py [--events 20000]

Results: bench/results/erb_e2e.json and a table on stdout.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import (
    BENCH,
    Receiver,
    RouterProcess,
    corpus,
    erb_corpus,
    mean_event_bytes,
    settled,
    write_result,
)

ERB_PYTHON = BENCH / ".erb-venv" / "bin" / "python"


def erb(events: Path, scratch: Path) -> dict[str, Any]:
    if not ERB_PYTHON.exists():
        subprocess.run([str(BENCH / "erb" / "setup.sh")], check=True, stdout=subprocess.DEVNULL)
    receiver = Receiver(scratch)
    try:
        done = subprocess.run(
            [str(ERB_PYTHON), str(BENCH / "erb" / "erb_route.py"), "--url",
             receiver.url("/xapi/"), str(events)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        received = receiver.stats()["statements"]
    finally:
        receiver.finish()
    inner = next(
        (json.loads(line[6:]) for line in done.stderr.splitlines() if line.startswith("bench ")),
        None,
    )
    if done.returncode != 0 or inner is None:
        return {"error": f"exit {done.returncode}", "stderr_tail": done.stderr.splitlines()[-5:]}
    return {**inner, "statements_received": received}


def ours(events: Path, count: int, scratch: Path) -> dict[str, Any]:
    receiver = Receiver(scratch)
    log = scratch / "tracking.log"
    log.touch()
    router = RouterProcess(receiver, tracking_log=log)
    try:
        started = time.time()
        log.write_bytes(events.read_bytes())
        settled(router, count)  # every event's cursor passed: delivered, or skipped with a reason
        received = receiver.stats()["statements"]
        router.stop()
        arrivals = receiver.finish()
    finally:
        router.stop()
        router.cleanup()
    seconds = max(arrivals.values()) - started
    return {
        "events": count,
        "statements_received": received,
        "seconds": round(seconds, 3),
        "events_per_second": round(count / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--corpus", choices=("erb", "generated"), default="erb")
    args = parser.parse_args()
    if args.corpus == "erb":
        events = erb_corpus(args.events, seed=21)
    else:
        events = corpus(args.events, "event-tracking", seed=21)
    size = mean_event_bytes(events)
    with tempfile.TemporaryDirectory(prefix="er-bench-erb-") as tmp:
        erb_result = erb(events, Path(tmp))
        ours_result = ours(events, args.events, Path(tmp))
    ratio = None
    if "events_per_second" in erb_result:
        ratio = round(ours_result["events_per_second"] / erb_result["events_per_second"], 2)
    result = {
        "events": args.events,
        "corpus": args.corpus,
        "event_bytes": size,
        "erb_sync": erb_result,
        "router": ours_result,
        "ratio": ratio,
    }
    path = write_result("erb_e2e", result)
    what = f"{args.events:,} {args.corpus} events of {size} B, 1 xAPI consumer"
    for name, row in (("ERB SyncEventsRouter", erb_result), ("event-router", ours_result)):
        if "events_per_second" in row:
            print(f"erb_e2e {name}, {what}: {row['events_per_second']:,.1f} events/s "
                  f"({row['seconds']} s)")  # fmt: skip
        else:
            print(f"erb_e2e {name}, {what}: failed: {row}")
    print(f"erb_e2e ratio (event-router / ERB), {what}: {ratio}x\nwrote {path}")


if __name__ == "__main__":
    main()
