"""Reading event files: the one place that opens them, un-gzips them and cuts them into lines.

Three readers use it: the tracking-log follower (`sources/tracking_log.py`, which adds rotation
and resumable positions), backfill (`backfill/inputs.py`, which adds globs, URLs and
checkpoints) and `event-router transform` (which reads JSON documents as well as log lines).
Whatever the reader, a file is gzip when its name ends in `.gz` or its content starts with the
gzip magic bytes (the follower, which seeks in the plain file it follows, goes by the name
alone), and every gzip member is read (`event_router.gunzip`); data is handed on in whole lines.
"""

from __future__ import annotations

import hashlib
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from event_router.events import NormaliseError, TrackingEvent, parse_line
from event_router.gunzip import open_gzip

GZIP_MAGIC = b"\x1f\x8b"
STDIN = "-"


@dataclass(frozen=True, slots=True)
class Opened:
    """An opened file: `raw` its stored bytes (for positions and inodes), `content` what it
    holds (the same stream for a plain file, the decompressed one for gzip). Closing `content`
    closes `raw` too."""

    raw: IO[bytes]
    content: IO[bytes]

    @property
    def packed(self) -> bool:
        return self.content is not self.raw

    def close(self) -> None:
        try:
            self.content.close()
        finally:
            self.raw.close()


def is_gzip(name: str, start: bytes = b"") -> bool:
    """Whether a file of this name, starting with these bytes, is gzip data."""
    return name.endswith(".gz") or start[:2] == GZIP_MAGIC


def open_file(name: str | Path, *, remote: bool = False, sniff: bool = True) -> Opened:
    """Open a local path, `-` for standard input, or (with `remote`) an fsspec URL.

    With `sniff`, the first two bytes decide gzip as well as the name does. Raises `OSError`
    (or a cloud client's own exception for a URL) when it cannot be opened."""
    name = str(name)
    if name == STDIN:
        raw: IO[bytes] = sys.stdin.buffer
    elif remote:
        import fsspec  # type: ignore[import-untyped]  # only for URLs: its import is not free

        raw = fsspec.open(name, "rb").open()
    else:
        raw = open(name, "rb")  # noqa: SIM115  # the caller closes it (Opened.close)
    try:
        start = _start(raw) if sniff else b""
    except BaseException:
        raw.close()
        raise
    if is_gzip(name, start):
        return Opened(raw, open_gzip(raw))  # every member; bad data is a GzipError
    return Opened(raw, raw)


def _start(raw: IO[bytes]) -> bytes:
    peek = getattr(raw, "peek", None)
    if peek is not None:
        return bytes(peek(2)[:2])
    start = raw.read(2)
    raw.seek(0)
    return start


def whole_lines(data: bytes) -> tuple[bytes, bytes]:
    """`data` cut after its last newline: the whole lines, and the unfinished rest."""
    cut = data.rfind(b"\n") + 1
    return data[:cut], data[cut:]


def digest(data: bytes) -> str:
    """The SHA-1 of some bytes, in hex: what positions and checkpoints keep of a file's content
    to recognise it later."""
    return hashlib.sha1(data).hexdigest()


def why(exc: BaseException) -> str:
    """An error as a short reason for a message that already names the file."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


# --- items: log lines, JSON lines, one JSON document or a JSON array (`transform`) -------------

Raw = tuple[str, bytes]  # (location, a log line or one JSON value)


@dataclass(frozen=True, slots=True)
class Item:
    """One input item: where it was, and the event or why there is none."""

    location: str
    event: TrackingEvent | None
    error: NormaliseError | None = None


def read_raw(path: str) -> Iterator[Raw]:
    """Every item of one input, unparsed, in order: its location (`file:line`, or `file:[index]`
    inside a JSON array) and its bytes. Parsing (`parse_raw`) is the costly half, so it can run
    in worker processes. Raises OSError if the input cannot be read."""
    name = "<stdin>" if path == STDIN else path
    opened = open_file(path)
    try:
        content: Any = opened.content
        buffered = content if hasattr(content, "peek") else io.BufferedReader(content)
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
        if opened.raw is not sys.stdin.buffer:
            opened.close()


def parse_raw(raw: Raw) -> Item:
    """One raw item as the normalised event, or the reason it is not one."""
    location, data = raw
    try:
        return Item(location, parse_line(data))
    except NormaliseError as exc:
        return Item(location, None, exc)


def _lines(name: str, lines: Any) -> Iterator[Raw]:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield f"{name}:{number}", line


def _chain(first: bytes, rest: IO[bytes]) -> Iterator[bytes]:
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
