"""Translation throughput: our `event-router transform` against ERB on the same corpus.

Builds (or reuses, cached under bench/results/) a corpus of N events (bench/corpus.py), then times:
- ERB (event-routing-backends 9.3.8 driven by bench/erb/erb_transform.py in its own venv): the whole
  process, and the transform loop it reports itself (after Django setup and input parsing);
- our CLI, whole process: `event-router transform --to X --courses CSV FILE > /dev/null`.
Prints a table and writes bench/results/translation.json. A missing or failing side is reported,
not fatal, so either side can be measured alone.

    .venv/bin/python bench/translation.py [--count 100000] [--to xapi|caliper] [--skip-erb]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
ERB_PYTHON = BENCH / ".erb-venv" / "bin" / "python"
ROUTER = ROOT / ".venv" / "bin" / "event-router"
LMS_URL = "http://localhost:18000"
ERB_LOOP, ERB_PROCESS, OURS = (
    "ERB transform loop",
    "ERB whole process",
    "event-router whole process",
)

sys.path.insert(0, str(BENCH))
import corpus  # noqa: E402  (bench/corpus.py, stdlib only)


def build_corpus(count: int, seed: int, users: int) -> tuple[Path, Path]:
    """The cached corpus file and courses CSV, built on first use."""
    RESULTS.mkdir(exist_ok=True)
    version = hashlib.sha1(Path(corpus.__file__).read_bytes()).hexdigest()[:8]  # stale cache
    events_file = RESULTS / f"corpus-{count}-seed{seed}-users{users}-{version}.jsonl"
    courses_file = RESULTS / "courses.csv"
    if not events_file.exists():
        print(f"building {events_file.name} ...", file=sys.stderr)
        partial = events_file.with_suffix(".partial")
        with partial.open("w", encoding="utf-8") as out:
            for event in corpus.events(count, seed, users=users):
                out.write(json.dumps(event, separators=(",", ":")) + "\n")
        partial.rename(events_file)
    corpus.write_courses(courses_file)
    return events_file, courses_file


def timed(command: list[str]) -> dict[str, Any]:
    """Run with stdout to /dev/null; wall and CPU seconds, exit code and stderr (tail)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    try:
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    except OSError as exc:
        return {"command": command, "error": str(exc)}
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    lines = done.stderr.splitlines()
    result = {"command": command, "returncode": done.returncode, "seconds": round(seconds, 3)}
    result["cpu_seconds"] = round(cpu, 3)
    result["stderr_lines"] = len(lines)
    result["stderr_tail"] = lines[-5:]
    if done.returncode != 0:
        result["error"] = f"exit code {done.returncode}"
    return result


def run_erb(events_file: Path, courses_file: Path, to: str) -> dict[str, Any]:
    if not ERB_PYTHON.exists():
        subprocess.run([str(BENCH / "erb" / "setup.sh")], check=False, stdout=subprocess.DEVNULL)
    script = BENCH / "erb" / "erb_transform.py"
    command = [str(ERB_PYTHON), str(script), "--to", to, "--lms-url", LMS_URL]
    result = timed([*command, "--courses", str(courses_file), "--bench", str(events_file)])
    for line in result.get("stderr_tail", []):
        if line.startswith("bench "):
            result["inner"] = json.loads(line.removeprefix("bench "))
    return result


def run_router(events_file: Path, courses_file: Path, to: str) -> dict[str, Any]:
    router = os.environ.get("EVENT_ROUTER", str(ROUTER))
    command = [router, "transform", "--to", to, "--lms-url", LMS_URL]
    return timed([*command, "--courses", str(courses_file), str(events_file)])


def times(result: dict[str, Any]) -> tuple[float | None, float | None]:
    """(wall, CPU) seconds of a successful run, else (None, None)."""
    if result.get("error"):
        return None, None
    return result.get("seconds"), result.get("cpu_seconds")


def rate(count: int, seconds: float | None) -> float | None:
    return round(count / seconds, 1) if seconds else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--to", choices=("xapi", "caliper"), default="xapi")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--users", type=int, default=corpus.USERS, help="distinct learners")
    parser.add_argument("--skip-erb", action="store_true", help="only time our router")
    parser.add_argument("--skip-router", action="store_true", help="only time ERB")
    args = parser.parse_args()

    events_file, courses_file = build_corpus(args.count, args.seed, args.users)
    erb = {} if args.skip_erb else run_erb(events_file, courses_file, args.to)
    ours = {} if args.skip_router else run_router(events_file, courses_file, args.to)

    inner = erb.get("inner", {})
    rows = {  # name: (wall seconds, CPU seconds); CPU time is steadier on a busy machine
        ERB_LOOP: (inner.get("seconds"), inner.get("cpu_seconds")),
        ERB_PROCESS: times(erb),
        OURS: times(ours),
    }
    rates = {name: rate(args.count, wall) for name, (wall, _) in rows.items()}
    cpu_rates = {name: rate(args.count, cpu) for name, (_, cpu) in rows.items()}
    ratios: dict[str, float | None] = {}
    for kind, base in (("wall", rates), ("cpu", cpu_rates)):
        for name in (ERB_PROCESS, ERB_LOOP):
            ours_rate, erb_rate = base[OURS], base[name]
            ratios[f"{kind} vs {name}"] = (
                round(ours_rate / erb_rate, 3) if ours_rate and erb_rate else None
            )

    print(f"\n{args.to}, corpus {events_file.name} ({args.count} events)\n")
    print(f"{'':28} {'wall s':>8} {'events/s':>9} {'CPU s':>8} {'events/CPU s':>12}")
    for name, (wall, cpu) in rows.items():
        if wall and cpu:
            print(f"{name:28} {wall:8.2f} {rates[name]:9.1f} {cpu:8.2f} {cpu_rates[name]:12.1f}")
        else:
            print(f"{name:28} (no result)")
    for name, ratio in ratios.items():
        print(f"ours/ERB events/s, {name:28} {f'{ratio:.2f}x' if ratio else '-'}")
    for side, result in (("ERB", erb), ("event-router", ours)):
        if "error" in result:
            print(f"\n{side} failed: {result['error']}", *result.get("stderr_tail", []), sep="\n  ")
    if inner:
        print(
            f"\nERB: {inner['outputs']} outputs, {inner['failed']} failed, "
            f"{inner['skipped']} skipped (no transformer, or dropped)"
        )

    # One entry per target format, so that xapi and caliper runs accumulate.
    out = RESULTS / "translation.json"
    report = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    report[args.to] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "events": args.count,
        "seed": args.seed,
        "users": args.users,
        "corpus": str(events_file.relative_to(ROOT)),
        "seconds": {name: wall for name, (wall, _) in rows.items()},
        "cpu_seconds": {name: cpu for name, (_, cpu) in rows.items()},
        "events_per_second": rates,
        "events_per_cpu_second": cpu_rates,
        "ratio_ours_over_erb": ratios,
        "erb": erb,
        "router": ours,
    }
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
