"""Run every benchmark, then print one table and write bench/results/summary.md.

    .venv/bin/python bench/run_all.py            # the full suite (about 15 minutes on 2 cores)
    .venv/bin/python bench/run_all.py --quick    # small counts: checks that everything runs
    .venv/bin/python bench/run_all.py --only translation,backfill

Each benchmark is its own script (run alone for details) writing bench/results/<name>.json; a
benchmark that fails is reported in the table and does not stop the others. The table shows every
result on file (with `--only`, the others are from earlier runs). Figures depend on the machine
and on what else runs on it: the summary records the CPU count and load average.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
PYTHON = sys.executable

# name: (command for the full suite, command for --quick)
SUITE: dict[str, tuple[list[str], list[str]]] = {
    "translation": (["translation.py", "--count", "100000"], ["translation.py", "--count", "5000"]),
    "translation-caliper": (
        ["translation.py", "--count", "100000", "--to", "caliper"],
        ["translation.py", "--count", "5000", "--to", "caliper"],
    ),
    "e2e": (
        ["e2e.py", "--count", "200000", "--repeat", "3"],
        ["e2e.py", "--count", "5000", "--repeat", "1", "--seconds", "2"],
    ),
    "e2e_matrix": (
        ["e2e_matrix.py", "--events", "50000", "--events-10", "15000", "--rates", "500,2000"],
        [
            "e2e_matrix.py",
            "--events",
            "3000",
            "--events-10",
            "1000",
            "--rates",
            "500",
            "--seconds",
            "2",
        ],
    ),
    "backfill": (["backfill.py", "--events", "1000000"], ["backfill.py", "--events", "20000"]),
    "erb_e2e": (["erb_e2e.py", "--events", "20000"], ["erb_e2e.py", "--events", "1000"]),
    "memory": (["memory.py", "--events", "1000000"], ["memory.py", "--events", "20000"]),
    "bus": (["bus.py", "--events", "50000"], ["bus.py", "--events", "2000"]),
}


def run(name: str, command: list[str]) -> dict[str, Any]:
    """Run one benchmark script; its stdout (last lines) and how it ended."""
    print(f"\n== {name}: {' '.join(command)}", flush=True)
    started = time.monotonic()
    done = subprocess.run(
        [PYTHON, str(BENCH / command[0]), *command[1:]],
        cwd=BENCH,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    sys.stdout.write(done.stdout)
    result = {
        "returncode": done.returncode,
        "seconds": round(time.monotonic() - started, 1),
        "stdout": done.stdout.splitlines()[-20:],
    }
    if name == "bus" and done.returncode == 0:  # the one benchmark that only prints
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "bus.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None  # type: ignore[no-any-return]


# -- rows of the summary table: (benchmark, what, value) ----------------------------------------

Row = tuple[str, str, str]


def translation_rows(_: dict[str, Any]) -> list[Row]:
    data = load("translation") or {}
    rows: list[Row] = []
    for to in ("xapi", "caliper"):
        entry = data.get(to)
        if not entry:
            continue
        per_cpu = entry["events_per_cpu_second"]
        ours, erb = per_cpu.get("event-router whole process"), per_cpu.get("ERB transform loop")
        ratio = entry["ratio_ours_over_erb"].get("cpu vs ERB transform loop")
        label = f"translation {to} ({entry['events']:,} events)"
        rows.append((label, "event-router, events per CPU second", _num(ours)))
        rows.append((label, "ERB transform loop, events per CPU second", _num(erb)))
        rows.append((label, "ratio", f"{ratio}x" if ratio else "-"))
    return rows


def size(data: dict[str, Any]) -> str:
    """', events of N B' when the result says how large its events were."""
    return f", events of {data['event_bytes']} B" if data.get("event_bytes") else ""


def e2e_rows(_: dict[str, Any]) -> list[Row]:
    data = load("e2e")
    if not data:
        return []
    rows: list[Row] = []
    if "throughput" in data:
        t = data["throughput"]
        label = f"end to end, tracking log, 1 xAPI consumer ({t['events']:,} events{size(data)})"
        value = f"median {_num(t['events_per_s'])} events/s of {len(t['runs'])} runs"
        rows.append((label, "throughput", value))
    if "latency" in data:
        lat = data["latency"]
        label = f"end to end, {lat['consumers']}{size(data)}"
        value = (
            f"p50 {lat['p50_ms']} / p99 {lat['p99_ms']} / p999 {lat['p999_ms']} ms "
            f"(worst consumer p99 {lat['worst_consumer_p99_ms']} ms)"
        )
        rows.append((label, f"latency at {lat['rate']:,} events/s", value))
    return rows


def matrix_rows(_: dict[str, Any]) -> list[Row]:
    data = load("e2e_matrix") or {"rows": []}
    rows: list[Row] = []
    for row in data["rows"]:
        label = f"end to end, {row['source']}, {row['consumers']} consumer(s)"
        latency = f"p50 {row['p50_ms']} / p99 {row['p99_ms']} / p999 {row['p999_ms']} ms"
        if row["mode"] == "saturation":
            value = (
                f"{_num(row.get('events_per_s'))} events/s ({row['events']:,} events); {latency}"
            )
            rows.append((label, "saturation", value))
        else:
            rows.append((label, f"latency at {row['mode']}", latency))
        if row["arrived"] != row["expected"]:
            rows.append((label, "MISSING", f"{row['arrived']} of {row['expected']} arrived"))
    return rows


def backfill_rows(_: dict[str, Any]) -> list[Row]:
    data = load("backfill")
    if not data:
        return []
    label = f"backfill ({data['events']:,} events, {data['input']})"
    return [
        (label, "events per second", _num(data.get("events_per_second"))),
        (
            label,
            "seconds (wall, incl. start-up)",
            f"{data.get('seconds')} ({data['wall_seconds']})",
        ),
        (label, "statements received", _num(data.get("statements_received"))),
    ]


def erb_rows(_: dict[str, Any]) -> list[Row]:
    data = load("erb_e2e")
    if not data:
        return []
    label = f"end to end vs ERB sync routing ({data['events']:,} events{size(data)})"
    erb, ours = data["erb_sync"], data["router"]
    return [
        (label, "ERB SyncEventsRouter, events/s", _num(erb.get("events_per_second"))),
        (label, "event-router (tracking log), events/s", _num(ours.get("events_per_second"))),
        (label, "ratio", f"{data['ratio']}x" if data.get("ratio") else "-"),
    ]


def memory_rows(_: dict[str, Any]) -> list[Row]:
    data = load("memory")
    if not data:
        return []
    label = f"memory, {data['events']:,}-event backlog{size(data)}"
    after, peak = data["rss_after_ingest_mb"], data["rss_peak_mb"]
    return [
        (label, "peak RSS after ingest (router + workers)", f"{after['total_mb']} MiB"),
        (label, "peak RSS while draining (router + workers)",
         f"{peak['total_mb']} MiB ({peak['main_mb']} + {peak['workers_mb']})"),
        (label, "ingest / drain, events/s",
         f"{_num(data['ingest_events_per_s'])} / {_num(data['drain_events_per_s'])}"),
    ]  # fmt: skip


def bus_rows(_: dict[str, Any]) -> list[Row]:
    lines = (load("bus") or {}).get("stdout", [])  # bench/bus.py prints; run() keeps it
    rows: list[Row] = []
    for line in lines:
        what, sep, value = line.partition(":")
        if sep and re.search(r"\d", value):
            rows.append(("event bus and LMS backend", what.strip(), value.strip()))
    return rows


ROWS: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "translation": translation_rows,
    "e2e": e2e_rows,
    "e2e_matrix": matrix_rows,
    "backfill": backfill_rows,
    "erb_e2e": erb_rows,
    "memory": memory_rows,
    "bus": bus_rows,
}


def _num(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if isinstance(value, int | float) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts (a smoke run)")
    parser.add_argument("--only", help=f"comma-separated, from: {', '.join(SUITE)}")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(SUITE)
    unknown = set(names) - set(SUITE)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    runs = {name: run(name, SUITE[name][1 if args.quick else 0]) for name in names}
    rows: list[Row] = []
    for builder in ROWS.values():  # every result on file: this run's and earlier ones
        rows.extend(builder(runs))
    failed = [(n, r) for n, r in runs.items() if r["returncode"] != 0]
    table = render(rows, failed, quick=args.quick)
    print("\n" + table)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "summary.md").write_text(table, encoding="utf-8")
    (RESULTS / "runs.json").write_text(json.dumps(runs, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS / 'summary.md'}")
    if failed:
        sys.exit(1)


def render(rows: list[Row], failed: list[tuple[str, dict[str, Any]]], *, quick: bool) -> str:
    when = datetime.now(UTC).isoformat(timespec="seconds")
    load_average = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        f"# Benchmarks{' (quick run: small counts)' if quick else ''}",
        "",
        f"{when}; {os.cpu_count()} CPUs, load average {load_average} at the end; "
        "`.venv/bin/python bench/run_all.py`",
        "",
        "| benchmark | figure | value |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {bench} | {what} | {value} |" for bench, what, value in rows]
    for name, result in failed:
        tail = " ".join(result["stdout"][-2:])[:200]
        lines.append(f"| {name} | FAILED (exit {result['returncode']}) | {tail} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
