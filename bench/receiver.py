"""A minimal, fast receiver for benchmarks (LRS, Caliper endpoint, webhook): the router is measured.

Raw asyncio HTTP/1.1 with keep-alive; answers every POST with 200 and `[]`. A body is a JSON array
of items (xAPI statements, edX events), one item, or a Caliper envelope (its `data` are the
items). For each item it records the arrival time against the item's time (`timestamp`, or
Caliper's `eventTime`: the benchmark makes event times unique), and on SIGTERM (or GET /stats)
reports counts. Run: `python bench/receiver.py PORT OUT.json
[--per-path]` (`--per-path`: arrivals keyed by "PATH TIMESTAMP", for several consumers).
"""

from __future__ import annotations

import asyncio
import gc
import signal
import sys
import time

import orjson

arrivals: dict[str, float] = {}
PER_PATH = "--per-path" in sys.argv  # key arrivals by "PATH TIMESTAMP" (one LRS per consumer)
counts = {"requests": 0, "statements": 0}


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length) if length else b""
            if head.startswith(b"GET /stats"):
                payload = orjson.dumps(counts)
            else:
                now = time.time()
                statements = orjson.loads(body) if body else []
                if isinstance(statements, dict):
                    data = statements.get("data")  # a Caliper envelope
                    statements = data if isinstance(data, list) else [statements]
                counts["requests"] += 1
                counts["statements"] += len(statements)
                prefix = head.split(b" ", 2)[1].decode() + " " if PER_PATH else ""
                for statement in statements:
                    stamp = statement.get("timestamp") or statement.get("eventTime") or ""
                    arrivals.setdefault(prefix + stamp, now)
                payload = b"[]"
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Experience-API-Version: "
                b"1.0.3\r\nContent-Length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port: int, out: str) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=256)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    async with server:
        await stop.wait()
    with open(out, "wb") as handle_out:
        handle_out.write(orjson.dumps({"counts": counts, "arrivals": arrivals}))


if __name__ == "__main__":
    # Parsed batches are acyclic and freed by reference counting; the cyclic collector would
    # only spend the CPU the router is measured on (2 cores shared by all the processes).
    gc.disable()
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
