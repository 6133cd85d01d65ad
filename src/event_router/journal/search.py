"""Finding events in the journal for the event inspector: by learner, course, name and time.

A bounded scan, newest first, rather than an index: the journal is written for appending (it
dropped even its time index, see journal/schema.py), and an index on learners and courses would
cost every append for the sake of a rare look-up. So one search examines at most `budget`
journal entries (50,000 by default) from where it starts: a page that is not full when the budget
runs out says where to go on (`next`), and the caller asks again from there. On SQLite the
time range becomes a seq range by bisection (arrival times rise with seq), the event name is
compared in SQL and learner and course are pre-filtered with `instr` on the body before an
event is parsed and checked exactly; on Redis, XREVRANGE reads the stream back in chunks.

Times are arrival times (when the router accepted the event). Positions are the SQLite seq, or
the Redis entry id, as text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from event_router.events import NormaliseError, TrackingEvent, parse_json
from event_router.journal.entry import REDACTED
from event_router.journal.housekeeping import first_since
from event_router.journal.redis import RedisJournal
from event_router.journal.sqlite import SqliteJournal
from event_router.privacy.screen import identifiers

BUDGET = 50_000  # journal entries examined by one search at most
_CHUNK = 2000


@dataclass(frozen=True)
class Query:
    """What to look for; every given field must match. `learner` is a user id or a username."""

    learner: str | None = None
    course: str | None = None
    name: str | None = None
    since: float | None = None  # arrival time, epoch seconds (inclusive)
    until: float | None = None  # (exclusive)
    before: str | None = None  # a position: continue below it (the previous page's `next`)

    def matches(self, event: TrackingEvent) -> bool:
        if self.name is not None and event.name != self.name:
            return False
        if self.course is not None and event.course_id != self.course:
            return False
        if self.learner is not None:
            names = identifiers(event)
            if ("id", self.learner) not in names and ("name", self.learner) not in names:
                return False
        return True

    def needles(self) -> list[bytes]:
        """Byte strings a matching body must contain (a cheap first filter)."""
        return [value.encode() for value in (self.learner, self.course) if value]


@dataclass(frozen=True)
class Found:
    position: str
    seq: int
    ingested_at: float
    event: TrackingEvent
    body: bytes


@dataclass(frozen=True)
class Page:
    found: list[Found]
    next: str | None  # where the next page starts (None: the range is exhausted)
    examined: int


def searchable(journal: object) -> bool:
    """Whether `search` reads this journal: SQLite and Redis do, a Kafka topic is read with
    Kafka's own tools."""
    return isinstance(journal, SqliteJournal | RedisJournal)


def search(journal: Any, query: Query, limit: int = 50, budget: int = BUDGET) -> Page:
    """Up to `limit` events matching `query`, newest first, examining at most `budget`."""
    rows = _sqlite_rows if isinstance(journal, SqliteJournal) else _redis_rows
    found: list[Found] = []
    examined = 0
    last: str | None = None
    for position, seq, at, body, count in rows(journal, query, budget):
        examined, last = count, position
        if body is None:
            continue
        try:
            event = parse_json(body)
        except NormaliseError:
            continue
        if event.name != REDACTED and query.matches(event):
            found.append(Found(position, seq, at, event, body))
            if len(found) == limit:
                return Page(found, position, examined)
    exhausted = examined < budget
    return Page(found, None if exhausted else last, examined)


Row = tuple[str, int, float, bytes | None, int]  # position, seq, arrival, body (None: no match)


def _sqlite_rows(journal: Any, query: Query, budget: int) -> Iterator[Row]:
    """The entries below `before` within the time range, newest first: at most `budget` seqs
    looked at; those the SQL filters leave out come with no body."""
    uri = f"file:{journal.path}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=30)) as conn:
        conn.execute("BEGIN")  # one snapshot for the bisection and the scan
        high = int(journal.head)
        if query.before is not None:
            high = min(high, int(query.before) - 1)
        if query.until is not None:
            first = first_since(conn, query.until)
            if first is not None:
                high = min(high, first - 1)
        low = 1
        if query.since is not None:
            first = first_since(conn, query.since)
            low = first if first is not None else high + 1
        low = max(low, high - budget + 1)
        where, args = ["seq BETWEEN ? AND ?"], [0, 0]
        if query.name is not None:
            where.append("name = ?")
            args.append(query.name)  # type: ignore[arg-type]
        for needle in query.needles():
            where.append("instr(body, ?) > 0")
            args.append(needle)  # type: ignore[arg-type]
        sql = f"SELECT seq, ingested_at, body FROM events WHERE {' AND '.join(where)} "
        sql += "ORDER BY seq DESC"
        top = high
        while top >= low:
            bottom = max(low, top - _CHUNK + 1)
            args[0], args[1] = bottom, top
            for seq, at, body in conn.execute(sql, args):
                yield str(seq), int(seq), float(at), bytes(body), high - int(seq) + 1
            # The last seq looked at: where a continuation starts below.
            yield str(bottom), bottom, 0.0, None, high - bottom + 1
            top = bottom - 1
        conn.execute("COMMIT")


def _redis_rows(journal: Any, query: Query, budget: int) -> Iterator[Row]:
    from event_router.journal.redis import entry_seq, entry_time, text

    high = "+" if query.before is None else f"({query.before}"
    if query.until is not None:
        bound = f"({int(query.until * 1000)}-0"
        high = bound if high == "+" else min(high, bound, key=_id_order)
    low = "-" if query.since is None else f"{int(query.since * 1000)}-0"
    needles = query.needles()
    examined = 0
    while examined < budget:
        count = min(_CHUNK, budget - examined)
        rows: Any = journal._client.xrevrange(journal.stream, max=high, min=low, count=count)
        for entry_id, fields in rows:
            examined += 1
            position = text(entry_id)
            body = bytes(fields.get(b"b", b""))
            name = text(fields.get(b"n", b""))
            keep = all(n in body for n in needles) and query.name in (None, name)
            at = entry_time(position)
            yield position, entry_seq(position), at, body if keep else None, examined
        if len(rows) < count:
            return
        high = "(" + text(rows[-1][0])


def _id_order(bound: str) -> tuple[int, int]:
    ms, _, n = bound.lstrip("(").partition("-")
    return int(ms), int(n or 0)
