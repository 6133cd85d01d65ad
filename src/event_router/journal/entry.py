"""One accepted event as the journal hands it to deliveries, and the journal's refusal."""

from __future__ import annotations

import orjson

from event_router.events import NormaliseError, TrackingEvent, parse_json

REDACTED = "event_router.redacted"
"""The name of an event whose learner was forgotten: kept in place (seq, time), never delivered."""


def redacted_body(body: bytes) -> bytes:
    """What a forgotten learner's event becomes: named `REDACTED`, context and payload gone;
    only the time it happened is kept (a valid event still, for every reader of the journal)."""
    try:
        stamp = parse_json(body).timestamp
    except NormaliseError:
        stamp = "1970-01-01T00:00:00+00:00"
    return orjson.dumps({"name": REDACTED, "timestamp": stamp, "context": {}, "data": {}})


class JournalUnavailable(OSError):
    """The journal cannot be read or written now (a server down, a full disk): wait, retry."""


class JournalFull(JournalUnavailable):
    """The journal cannot take more events (disk full or not writable): ingest must refuse."""


class Entry:
    """One accepted event: its place in the journal, when it arrived, its name and body.

    The event itself is parsed from the body only when something asks for it: a consumer whose
    route allows everything, translated in a worker process, never needs it in this one.
    """

    __slots__ = ("_event", "body", "ingested_at", "name", "seq")

    def __init__(
        self,
        seq: int,
        ingested_at: float,
        event: TrackingEvent | None = None,
        body: bytes = b"",
        name: str | None = None,
    ) -> None:
        self.seq = seq
        self.ingested_at = ingested_at
        self._event = event
        self.body = body
        self.name = name if name is not None else event.name if event is not None else ""

    @property
    def event(self) -> TrackingEvent:
        """The normalised event (raises `NormaliseError` for a body that is not one)."""
        if self._event is None:
            self._event = parse_json(self.body)
            self.name = self._event.name
        return self._event
