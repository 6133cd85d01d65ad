"""Side by side, end to end: ERB's synchronous routing against the router, same events, same LRS.

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

from harness import BENCH, Receiver, RouterProcess, corpus, write_result

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
        previous, still, deadline = -1, 0.0, time.time() + 600
        while time.time() < deadline:
            received = receiver.stats()["statements"]
            if received >= count and received == previous:
                still += 0.05
                if still >= 0.5:
                    break
            else:
                previous, still = received, 0.0
            time.sleep(0.05)
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
    args = parser.parse_args()
    events = corpus(args.events, "event-tracking", seed=21)
    with tempfile.TemporaryDirectory(prefix="er-bench-erb-") as tmp:
        erb_result = erb(events, Path(tmp))
        ours_result = ours(events, args.events, Path(tmp))
    ratio = None
    if "events_per_second" in erb_result:
        ratio = round(ours_result["events_per_second"] / erb_result["events_per_second"], 2)
    result = {"events": args.events, "erb_sync": erb_result, "router": ours_result, "ratio": ratio}
    path = write_result("erb_e2e", result)
    for name, row in (("ERB SyncEventsRouter", erb_result), ("event-router", ours_result)):
        if "events_per_second" in row:
            print(f"{name:22} {row['events_per_second']:>10,.1f} events/s ({row['seconds']} s)")
        else:
            print(f"{name:22} failed: {row}")
    print(f"ratio (ours / ERB): {ratio}x\nwrote {path}")


if __name__ == "__main__":
    main()
