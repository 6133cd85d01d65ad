"""What the end-to-end benchmarks share: a home with consumers, the fast receiver, the router, a
generated corpus, peak memory, percentiles, results files.

Everything runs as real processes on 127.0.0.1 with a fresh home per measurement: the router is
`event-router run` exactly as an operator starts it (default settings: SQLite journal with
synchronous=FULL, translation workers as configured by default), and the receiver is
bench/receiver.py, which costs little so that the router is what is measured.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
CACHE = BENCH / "results" / "cache"
PYTHON = sys.executable
ROUTER = [PYTHON, "-m", "event_router"]
if os.environ.get("BENCH_TRACEMALLOC") or os.environ.get("BENCH_PROFILE"):  # traced_router.py
    ROUTER = [PYTHON, str(BENCH / "traced_router.py")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def machine() -> dict[str, Any]:
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def write_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_bytes(orjson.dumps({"machine": machine(), **result}, option=orjson.OPT_INDENT_2))
    return path


def corpus(count: int, layout: str, seed: int = 0) -> Path:
    """A generated corpus (`event-router generate`), cached under bench/results/cache."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"generated-{count}-{layout}-seed{seed}.log"
    if not path.exists():
        partial = path.with_suffix(".partial")
        subprocess.run(
            [*ROUTER, "generate", "--count", str(count), "--layout", layout, "--seed", str(seed),
             "--users", "5000", "--courses", "50", "-o", str(partial)],
            check=True,
        )  # fmt: skip
        partial.rename(path)
    return path


def erb_corpus(count: int, seed: int = 0) -> Path:
    """ERB's own fixture events, re-keyed (bench/corpus.py), cached under bench/results/cache:
    the events both routers translate, as the LMS writes them (mostly the event-tracking layout)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"erb-{count}-seed{seed}.jsonl"
    if not path.exists():
        partial = path.with_suffix(".partial")
        subprocess.run(
            [PYTHON, str(BENCH / "corpus.py"), "--count", str(count), "--seed", str(seed),
             "--out", str(partial)],
            check=True,
        )  # fmt: skip
        partial.rename(path)
    return path


def mean_event_bytes(path: Path, sample: int = 100_000) -> int:
    """The mean size of an event line of a corpus (its first `sample` lines), in bytes: every
    figure is printed beside the size of the events it was measured on."""
    total = lines = 0
    with path.open("rb") as handle:
        for line in handle:
            total += len(line.rstrip(b"\n"))
            lines += 1
            if lines == sample:
                break
    return round(total / max(1, lines))


def percentiles(values: list[float]) -> dict[str, float | None]:
    """p50/p99/p999 and max of `values` (milliseconds in, milliseconds out)."""
    if not values:
        return {"p50_ms": None, "p99_ms": None, "p999_ms": None, "max_ms": None}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {
        "p50_ms": pick(0.5),
        "p99_ms": pick(0.99),
        "p999_ms": pick(0.999),
        "max_ms": round(ordered[-1], 2),
    }


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set (VmHWM), in MiB; None if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def children(pid: int) -> list[int]:
    """Direct children of `pid` (whichever thread started them), from /proc."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds of the process and of its children (the translation workers), by pid."""
    return {"main": cpu_seconds(pid)} | {str(c): cpu_seconds(c) for c in children(pid)}


def tree_peak_rss_mb(pid: int) -> dict[str, float | None]:
    """Peak RSS of the process, and the sum of its children's (translation workers)."""
    workers = [peak_rss_mb(child) or 0.0 for child in children(pid)]
    main = peak_rss_mb(pid)
    return {
        "main_mb": main,
        "workers_mb": round(sum(workers), 1),
        "workers": len(workers),
        "total_mb": round((main or 0.0) + sum(workers), 1),
    }


def rss_mb(pid: int) -> float:
    """The process's resident set now (VmRSS), in MiB; 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def rss_kinds(pid: int) -> dict[str, float]:
    """The process's resident set by kind (anonymous, file-backed, shared memory), in MiB."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("RssAnon:", "RssFile:", "RssShmem:")):
                key, value = line.split(":", 1)
                out[key[3:].lower()] = round(int(value.split()[0]) / 1024, 1)
    except OSError:
        pass
    return out


class RssSampler:
    """Samples the resident set of a process and its children (the translation workers) every
    `every` seconds on a thread: the peak of their sum (what the machine must hold at once,
    unlike a sum of per-process peaks) and a timeline, `mark`ed with phases."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        self.pid = pid
        self.every = every
        self.peak = {"total_mb": 0.0, "main_mb": 0.0, "workers_mb": 0.0}
        self.timeline: list[tuple[Any, ...]] = []  # (s, phase, main, workers, main by kind)
        self.phase = "start"
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def mark(self, phase: str) -> None:
        self.phase = phase

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            main = rss_mb(self.pid)
            workers = sum(rss_mb(child) for child in children(self.pid))
            if main + workers > self.peak["total_mb"]:
                self.peak = {
                    "total_mb": round(main + workers, 1),
                    "main_mb": round(main, 1),
                    "workers_mb": round(workers, 1),
                }
            moment = round(time.monotonic() - self._started, 1)
            kinds = rss_kinds(self.pid)
            self.timeline.append((moment, self.phase, round(main, 1), round(workers, 1), kinds))

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        return self.peak


class Receiver:
    """bench/receiver.py in its own process."""

    def __init__(self, directory: Path, *, per_path: bool = False) -> None:
        self.port = free_port()
        self.out = directory / f"arrivals-{self.port}.json"
        args = [PYTHON, str(BENCH / "receiver.py"), str(self.port), str(self.out)]
        self.process = subprocess.Popen([*args, "--per-path"] if per_path else args)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.stats()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def url(self, path: str = "/xapi/statements") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stats(self) -> dict[str, int]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", "/stats")
            return orjson.loads(conn.getresponse().read())  # type: ignore[no-any-return]
        finally:
            conn.close()

    def finish(self) -> dict[str, float]:
        """Stop; the first arrival time of each statement timestamp (per path with per_path)."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)
        return orjson.loads(self.out.read_bytes())["arrivals"]  # type: ignore[no-any-return]


INGEST_TOKEN = "bench-ingest"
SIGNING_SECRET = "bench-signing-secret"
BENCH_SECRET_KEY = "bench-secret-key-0123456789abcdef0123456789abcdef"

# Eight consumers of mixed protocols, sinks and identity policies, as a real deployment might have
# (an LRS or two, an analytics LRS by username, Caliper, signed webhooks of edX events); each
# delivers to its own path on the receiver. Consumers of one protocol and policy share each
# translation; each distinct pair is translated once per event.
MIXED: list[dict[str, Any]] = [
    {"protocol": "xapi"},
    {"protocol": "xapi"},
    {"protocol": "xapi", "identity": "username"},
    {"protocol": "xapi", "sink": "webhook", "signing_secret": SIGNING_SECRET},
    {"protocol": "caliper"},
    {"protocol": "caliper", "sink": "webhook", "signing_secret": SIGNING_SECRET},
    {"protocol": "edx", "sink": "webhook", "signing_secret": SIGNING_SECRET},
    {"protocol": "edx", "identity": "raw", "sink": "webhook", "signing_secret": SIGNING_SECRET},
]


def describe_consumers(specs: list[dict[str, Any]]) -> str:
    """'xapi/lrs x2, caliper/caliper, ...' for a summary line."""
    from collections import Counter

    kinds = Counter(
        f"{spec.get('protocol', 'xapi')}/{spec.get('sink') or 'default'}"
        + (f"/{spec['identity']}" if "identity" in spec else "")
        for spec in specs
    )
    return ", ".join(f"{kind} x{n}" if n > 1 else kind for kind, n in kinds.items())


class RouterProcess:
    """`event-router run` with a fresh home and its consumers on the receiver: `consumers` xAPI
    consumers, or one per spec (`Consumer` fields, such as `MIXED`'s), each on its own path."""

    def __init__(
        self,
        receiver: Receiver | None,
        *,
        consumers: int | list[dict[str, Any]] = 1,
        batch_size: int = 500,
        linger: float = 0.02,
        in_flight: int = 2,
        tracking_log: Path | None = None,
        url: str | None = None,
        enabled: bool = True,
    ) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="er-bench-"))
        self.home = self.dir / "home"
        self.env = {
            **os.environ,
            "EVENT_ROUTER_HOME": str(self.home),
            "EVENT_ROUTER_INGEST_TOKEN": INGEST_TOKEN,  # ingest is refused without one
            "EVENT_ROUTER_SECRET_KEY": BENCH_SECRET_KEY,  # the store seals webhook secrets
        }
        self.ingest_headers = {
            "Authorization": f"Bearer {INGEST_TOKEN}",
            "Content-Type": "application/x-ndjson",
        }
        from event_router.routing.consumer import Consumer
        from event_router.store import Store

        self.home.mkdir(parents=True)
        with Store.open(f"sqlite:///{self.home / 'control.db'}", BENCH_SECRET_KEY) as store:
            specs = consumers if isinstance(consumers, list) else [{}] * consumers
            self.consumers = [f"bench{index}" for index in range(len(specs))]
            for index, spec in enumerate(specs):
                target = url or (receiver.url(f"/c{index}/statements") if receiver else "")
                consumer = Consumer(
                    **{"protocol": "xapi", **spec},
                    name=f"bench{index}",
                    url=target,
                    batch_size=batch_size,
                    linger=linger,
                    max_in_flight=in_flight,
                    enabled=enabled,
                )
                store.consumers.add(consumer)
        self.port = free_port()
        args = [*ROUTER, "run", "--listen", f"127.0.0.1:{self.port}", "--log-level", "warning"]
        if tracking_log is not None:
            args += ["--tracking-log", str(tracking_log)]
        self.log = (self.dir / "router.log").open("wb")
        self.process = subprocess.Popen(args, env=self.env, stdout=self.log, stderr=self.log)
        self.wait_ready()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.dir / "router.log").read_text()[-2000:])
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/ready")
                if conn.getresponse().status == 200:
                    time.sleep(1.5)  # the engine's first consumer sync
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("router not ready")

    def journal_head(self) -> int:
        """Events accepted so far (read from the journal file, as `status` would)."""
        import sqlite3

        db = sqlite3.connect(f"file:{self.home / 'journal.db'}?mode=ro", uri=True, timeout=30)
        try:
            row = db.execute("SELECT seq FROM sqlite_sequence WHERE name='events'").fetchone()
            return int(row[0]) if row else 0
        finally:
            db.close()

    def cursor(self, consumer: str) -> int:
        """A consumer's cursor (the seq of the newest event it settled), read from the journal
        file; 0 before it has one."""
        import sqlite3

        db = sqlite3.connect(f"file:{self.home / 'journal.db'}?mode=ro", uri=True, timeout=30)
        try:
            row = db.execute("SELECT seq FROM cursors WHERE consumer = ?", (consumer,)).fetchone()
            return int(row[0]) if row else 0
        finally:
            db.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def settled(router: RouterProcess, count: int, timeout: float = 900) -> None:
    """Wait until the journal holds `count` events and every consumer's cursor reached them."""
    deadline = time.monotonic() + timeout
    while router.journal_head() < count or min(map(router.cursor, router.consumers)) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"not all of {count} events settled within {timeout} s")
        if router.process.poll() is not None:
            raise RuntimeError((router.dir / "router.log").read_text()[-2000:])
        time.sleep(0.1)


def stamp_ms(stamp: str) -> int:
    """An event time as integer milliseconds, whichever way a protocol wrote it (xAPI keeps
    microseconds and the offset, Caliper writes milliseconds and `Z`)."""
    return round(datetime.fromisoformat(stamp).timestamp() * 1000)


def timestamps(path: Path) -> list[str]:
    """The event timestamps of a corpus, in order (a statement's timestamp is its event's)."""
    out = []
    with path.open("rb") as handle:
        for line in handle:
            event = orjson.loads(line[line.index(b"{") :])
            out.append(event.get("timestamp") or event["time"])
    return out


def dump(result: dict[str, Any]) -> str:
    return json.dumps(result, indent=2)


# A tracking-log line's prefix, and small numbered events (scale-out benchmarks).
PREFIX = b"2024-01-01 00:00:00,000 INFO 20 [tracking] [user 3] [ip 127.0.0.1] logger.py:41 - "


def stamp(i: int) -> str:
    """A unique, valid timestamp per event index (the receiver keys arrivals on it).

    Microseconds are never zero: Python's isoformat drops `.000000`, which would change the key.
    """
    seconds, micros = divmod(i, 999_999)
    micros += 1
    clock = f"{seconds // 3600 % 24:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return f"2024-03-01T{clock}.{micros:06d}+00:00"


def line(i: int) -> bytes:
    """A small play_video tracking-log line (the scale-out benchmarks' minimal event)."""
    event = {
        "name": "play_video",
        "event_type": "play_video",
        "time": stamp(i),
        "username": f"learner{i % 5000}",
        "session": "be0c0a9fbd0b46d6b2a1d4c1f8a0e3aa",
        "event_source": "browser",
        "host": "lms.example.com",
        "event": orjson.dumps(
            {"id": "0b9e39477cf34507a7a48f74be381fdd", "currentTime": i % 600, "code": "html5"}
        ).decode(),
        "context": {
            "course_id": "course-v1:edX+DemoX+Demo_Course",
            "org_id": "edX",
            "user_id": i % 5000 + 1,
            "path": "/event",
        },
    }
    return PREFIX + orjson.dumps(event) + b"\n"
