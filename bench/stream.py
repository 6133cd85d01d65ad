"""Live-stream benchmark: HTTP ingest → router → N SSE subscribers of one stream consumer.

`event-router run` with a fresh home and one `stream` consumer (xAPI, anonymous, route open);
N subscribers (default 50) read `GET /api/v1/stream` with a token bound to it, spread over a
few client processes; events from the generator's full-context corpus (every event family, the
event-tracking layout: name, timestamp, data, context) are POSTed to `/api/v1/events` at a fixed
rate (default 1,000/s, in NDJSON batches every 10 ms, one request at a time). Per (subscriber,
event): the time from just before its POST to the moment its complete SSE message is read;
p50 / p99 / p999 / max over all of them. On one machine everything (router, sender, clients)
shares the CPUs: say so beside the figure.

    .venv/bin/python bench/stream.py [--subscribers 50] [--rate 1000] [--seconds 10]

Results go to bench/results/stream.json and a summary on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import multiprocessing
import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from harness import (
    INGEST_TOKEN,
    ROUTER,
    corpus,
    dump,
    free_port,
    percentiles,
    tree_cpu_seconds,
    write_result,
)

ID = re.compile(rb"^id: (\d+)$", re.M)  # an event's last (or only) message: `N`, not `N.k`
TICK = 0.01  # seconds between POSTs
WARMUP = 1.0  # seconds of events left out of the figures (connections and caches warming)


def events(count: int) -> list[bytes]:
    """`count` generated events (every family, the LMS's full context), the JSON of each
    tracking-log line."""
    path = corpus(max(count, 10_000), "tracking-log", seed=7)
    with path.open("rb") as handle:
        lines = [line for _, line in zip(range(count), handle, strict=False)]
    return [line[line.index(b"{") :].rstrip(b"\n") for line in lines]


class Router:
    """`event-router run` with one stream consumer, a stream token and an admin token."""

    def __init__(self, buffer: int) -> None:
        from event_router.routing.consumer import Consumer
        from event_router.store import Store

        self.dir = Path(tempfile.mkdtemp(prefix="er-bench-stream-"))
        home = self.dir / "home"
        home.mkdir()
        env = {**os.environ, "EVENT_ROUTER_HOME": str(home)}
        env["EVENT_ROUTER_INGEST_TOKEN"] = INGEST_TOKEN
        with Store.open(f"sqlite:///{home / 'control.db'}") as store:
            options = {"buffer": buffer}
            store.consumers.add(Consumer(name="live", sink="stream", sink_options=options))
            store.users.add("bench", "bench-password", "admin")
            self.stream_token = store.tokens.create("bench", "engine", consumer="live")[1]
            self.admin_token = store.tokens.create("bench", "status")[1]
        self.port = free_port()
        args = [*ROUTER, "run", "--listen", f"127.0.0.1:{self.port}", "--log-level", "warning"]
        self.log = (self.dir / "router.log").open("wb")
        self.process = subprocess.Popen(args, env=env, stdout=self.log, stderr=self.log)

    def get(self, path: str) -> Any:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", path, headers={"Authorization": f"Bearer {self.admin_token}"})
            return orjson.loads(conn.getresponse().read())
        finally:
            conn.close()

    def stream(self) -> dict[str, Any]:
        return self.get("/api/v1/status")["consumers"]["live"].get("stream") or {}  # type: ignore[no-any-return]

    def wait(self, check: Any, what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.dir / "router.log").read_text()[-2000:])
            try:
                if check():
                    return
            except (OSError, KeyError, ValueError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"timed out waiting for {what}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


# -- subscribers (in client processes) --


async def subscriber(
    port: int, token: str, total: int, deadline: float
) -> tuple[list[tuple[int, float]], int]:
    """One SSE connection, raw: (seq, time) of each event's last message as it is read whole,
    until event `total` came; and the bytes read."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(head.decode(errors="replace"))
    chunked = b"transfer-encoding: chunked" in head.lower()
    seen: list[tuple[int, float]] = []
    pending = b""
    size = 0
    while (not seen or seen[-1][0] < total) and time.time() < deadline:
        try:
            data = await asyncio.wait_for(reader.read(1 << 18), max(0.1, deadline - time.time()))
        except TimeoutError:
            break
        if not data:
            break
        now = time.time()
        size += len(data)
        pending += data
        cut = pending.rfind(b"\n\n")
        if cut < 0:
            continue
        complete, pending = pending[:cut], pending[cut + 2 :]
        if chunked:  # chunk-size lines sit between messages, never inside an id line
            complete = re.sub(rb"\r\n[0-9a-fA-F]+\r\n", b"\n", complete)
        seen += [(int(m.group(1)), now) for m in ID.finditer(complete)]
    writer.close()
    return seen, size


def client(port: int, token: str, count: int, total: int, seconds: float, out: str) -> None:
    """A process with `count` subscribers; their arrivals go to `out` (JSON)."""

    async def run() -> list[tuple[list[tuple[int, float]], int]]:
        deadline = time.time() + seconds
        return await asyncio.gather(
            *(subscriber(port, token, total, deadline) for _ in range(count))
        )

    results = asyncio.run(run())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = round(usage.ru_utime + usage.ru_stime, 2)
    Path(out).write_bytes(orjson.dumps({"subscribers": results, "cpu_seconds": cpu}))


# -- the sender --


def send(port: int, bodies: list[bytes], rate: int) -> tuple[list[float], list[float]]:
    """POST `bodies` at `rate` per second (NDJSON, every TICK, one request at a time); the time
    just before the POST of each event, in order (on a fresh journal, event i has seq i + 1),
    and the time its answer came (the events were committed by then)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/x-ndjson"}
    sent: list[float] = []
    answered: list[float] = []
    start = time.time()
    while len(sent) < len(bodies):
        due = min(len(bodies), int((time.time() - start) * rate) + 1)
        if due > len(sent):
            batch = bodies[len(sent) : due]
            now = time.time()
            conn.request("POST", "/api/v1/events", body=b"\n".join(batch), headers=headers)
            answer = conn.getresponse()
            answer.read()
            if answer.status != 202:
                raise RuntimeError(f"ingest answered {answer.status}")
            sent += [now] * len(batch)
            answered += [time.time()] * len(batch)
        time.sleep(max(0.0, start + (len(sent) / rate) - time.time(), TICK / 2))
    conn.close()
    return sent, answered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument("--rate", type=int, default=1000, help="events per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument("--buffer", type=int, default=1000, help="the stream's buffer")
    args = parser.parse_args()
    load_before = [round(x, 2) for x in os.getloadavg()]
    total = int(args.rate * args.seconds)
    bodies = events(total)
    size = sum(map(len, bodies)) / len(bodies)
    print(f"events: {total} generated full-context events, mean size {size:.0f} bytes")
    router = Router(args.buffer)
    work = Path(tempfile.mkdtemp(prefix="er-bench-stream-clients-"))
    try:
        router.wait(lambda: "subscribers" in router.stream(), "the stream")
        shares = [args.subscribers // args.processes] * args.processes
        for i in range(args.subscribers % args.processes):
            shares[i] += 1
        context = multiprocessing.get_context("spawn")
        clients = []
        for index, count in enumerate(s for s in shares if s):
            out = str(work / f"client-{index}.json")
            process = context.Process(
                target=client,
                args=(router.port, router.stream_token, count, total, args.seconds + 60, out),
            )
            process.start()
            clients.append((process, out))
        router.wait(lambda: router.stream()["subscribers"] == args.subscribers, "every subscriber")
        cpu_before = tree_cpu_seconds(router.process.pid)
        sent, answered = send(router.port, bodies, args.rate)
        for process, _ in clients:
            process.join(args.seconds + 120)
        cpu_after = tree_cpu_seconds(router.process.pid)
        status = router.stream()
    finally:
        router.stop()
    reports = [orjson.loads(Path(out).read_bytes()) for _, out in clients]
    results = [each for report in reports for each in report["subscribers"]]
    client_cpu = [report["cpu_seconds"] for report in reports]
    arrivals = [seen for seen, _ in results]
    read_bytes = sum(size for _, size in results)
    shutil.rmtree(work, ignore_errors=True)
    skip = int(WARMUP * args.rate)
    delays = [
        (moment - sent[seq - 1]) * 1000
        for seen in arrivals
        for seq, moment in seen
        if skip < seq <= len(sent)
    ]
    after_commit = [
        (moment - answered[seq - 1]) * 1000
        for seen in arrivals
        for seq, moment in seen
        if skip < seq <= len(sent)
    ]
    ingest = [(a - b) * 1000 for a, b in zip(answered[skip:], sent[skip:], strict=True)]
    received = [len(seen) for seen in arrivals]
    cpu = {k: round(cpu_after.get(k, 0.0) - v, 2) for k, v in cpu_before.items()}
    result = {
        "subscribers": args.subscribers,
        "rate": args.rate,
        "seconds": args.seconds,
        "events": total,
        "event_bytes_mean": round(size),
        "events_with_items_received_per_subscriber": {
            "fewest": min(received, default=0),
            "most": max(received, default=0),
        },
        "bytes_read_per_subscriber_mean": round(read_bytes / max(1, len(arrivals))),
        "cut_off": status.get("disconnects", {}),
        "latency_ms (after the first second)": percentiles(delays),
        "of which ingest: POST to its 202 (journal commit, fsync)": percentiles(ingest),
        "from the 202 to the subscriber (at most the stream's own part)": percentiles(after_commit),
        "router_cpu_seconds": cpu,
        "client_processes_cpu_seconds": client_cpu,
        "load_average": {"before": load_before, "after": [round(x, 2) for x in os.getloadavg()]},
    }
    path = write_result("stream", result)
    print(dump(result))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
