"""The Server-Sent Events wire format (WHATWG HTML, "server-sent events"), as streams write it.

Each message is one translated item. Its `id` is the journal position it comes from, so a client
that reconnects with `Last-Event-ID` resumes right after it: `N` when the message is the last (or
only) item of journal event N, `N.k` for item k (from 0) of an event that made several. So `N`
always means "everything of events up to N", and nothing is lost or repeated either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import orjson

RETRY_MS = 3000  # how long a client waits before reconnecting (sent once, at the start)
_POSITION = re.compile(r"^(\d{1,18})(?:\.(\d{1,9}))?$")


@dataclass(frozen=True, slots=True)
class Position:
    """Where a subscriber is: after event `seq`, or, with `item`, after that item of it."""

    seq: int
    item: int | None = None

    def __str__(self) -> str:
        return str(self.seq) if self.item is None else f"{self.seq}.{self.item}"


def parse_position(value: str) -> Position:
    """A `Last-Event-ID` as this router writes ids; ValueError for anything else."""
    found = _POSITION.match(value.strip())
    if found is None:
        raise ValueError(
            f"Last-Event-ID {value[:40]!r} is not a position of this stream (N or N.k)"
        )
    item = found.group(2)
    return Position(int(found.group(1)), None if item is None else int(item))


def message_ids(seq: int, count: int) -> list[str]:
    """The ids of the `count` messages event `seq` makes: `seq.0`, … and `seq` for the last."""
    return [f"{seq}.{k}" for k in range(count - 1)] + [str(seq)]


def frame(event: str, data: bytes, message_id: str | None = None) -> bytes:
    """One message. `data` is one line of JSON (orjson never writes a newline)."""
    head = f"id: {message_id}\nevent: {event}\n" if message_id else f"event: {event}\n"
    return head.encode() + b"data: " + data + b"\n\n"


def notice(event: str, **fields: object) -> bytes:
    """A message of the router's own (no id: it is no journal position): `closed`, `error`."""
    return frame(event, orjson.dumps(fields))


def opening(consumer: str) -> bytes:
    """The first bytes: the reconnection delay, and a comment naming the stream."""
    return f"retry: {RETRY_MS}\n: stream of consumer {consumer}\n\n".encode()


KEEPALIVE = b": keep-alive\n\n"
