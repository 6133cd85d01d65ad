"""Read events from files: one JSON event, a JSON array, JSON lines, or raw tracking-log lines.

Plain or gzip (by the `.gz` suffix or the gzip magic bytes); `-` is standard input. Reading is
split in two so the costly half can run in worker processes: `read_raw` yields each item's
location (`file:line`, or `file:[index]` inside an array) with its raw bytes (a log line, or one
JSON value), and `parse_raw` turns one into the normalised event or the reason it is not one.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import orjson

from event_router.events import NormaliseError, TrackingEvent, parse_line
from event_router.gunzip import open_gzip

Raw = tuple[str, bytes]  # (location, a log line or one JSON value)


@dataclass(frozen=True, slots=True)
class Item:
    """One input item: where it was, and the event or why there is none."""

    location: str
    event: TrackingEvent | None
    error: NormaliseError | None = None


def open_binary(path: str) -> BinaryIO:
    """Open a path (or `-` for stdin) for reading, transparently un-gzipping."""
    raw: BinaryIO = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    peek = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
    if path.endswith(".gz") or peek == b"\x1f\x8b":
        return open_gzip(raw)  # every member; GzipError (an OSError) for bad data
    return raw


def read_raw(path: str) -> Iterator[Raw]:
    """Yield every item of one input, unparsed, in order. Raises OSError if it cannot be read."""
    name = "<stdin>" if path == "-" else path
    stream = open_binary(path)
    try:
        buffered: Any = stream if hasattr(stream, "peek") else io.BufferedReader(stream)
        head = buffered.peek(4096).lstrip()[:1]
        if head == b"[":
            yield from _array(name, buffered.read())
            return
        first = buffered.readline()
        if head == b"{" and not _is_json(first):
            # Not one object per line: a single (pretty-printed) JSON document, or broken lines.
            body = first + buffered.read()
            if _is_json(body):
                yield f"{name}:1", body
                return
            yield from _lines(name, io.BytesIO(body))
            return
        yield from _lines(name, _chain(first, buffered))
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def parse_raw(raw: Raw) -> Item:
    location, data = raw
    try:
        return Item(location, parse_line(data))
    except NormaliseError as exc:
        return Item(location, None, exc)


def read_items(path: str) -> Iterator[Item]:
    """Yield every item of one input, parsed, in order. Raises OSError if it cannot be read."""
    for raw in read_raw(path):
        yield parse_raw(raw)


def _lines(name: str, lines: Any) -> Iterator[Raw]:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield f"{name}:{number}", line


def _chain(first: bytes, rest: BinaryIO) -> Iterator[bytes]:
    yield first
    yield from rest


def _is_json(data: bytes) -> bool:
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError:
        return False
    return True


def _array(name: str, body: bytes) -> Iterator[Raw]:
    try:
        values = orjson.loads(body)
    except orjson.JSONDecodeError:
        yield f"{name}:1", body  # parse_raw reports why
        return
    for index, value in enumerate(values):
        yield f"{name}:[{index}]", orjson.dumps(value)
