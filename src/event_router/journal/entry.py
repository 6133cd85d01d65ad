"""One accepted event as the journal hands it to deliveries, and the journal's refusal."""

from __future__ import annotations

from event_router.events import TrackingEvent, parse_json
from event_router.journal.base import Ahead


class JournalUnavailable(OSError):
    """The journal cannot be read or written now (a server down, a full disk): wait, retry."""


class JournalFull(JournalUnavailable):
    """The journal cannot take more events (disk full or not writable): ingest must refuse."""


class Entry:
    """One accepted event: its place in the journal, when it arrived, its name and body.

    The event itself is parsed from the body only when something asks for it: a consumer whose
    route allows everything, translated in a worker process, never needs it in this one.
    """

    __slots__ = ("_event", "ahead", "body", "ingested_at", "name", "seq")

    def __init__(
        self,
        seq: int,
        ingested_at: float,
        event: TrackingEvent | None = None,
        body: bytes = b"",
        name: str | None = None,
        ahead: Ahead | None = None,
    ) -> None:
        self.seq = seq
        self.ingested_at = ingested_at
        self._event = event
        self.body = body
        self.name = name if name is not None else event.name if event is not None else ""
        self.ahead = ahead  # translations made at ingest, by (protocol, identity policy)

    @property
    def event(self) -> TrackingEvent:
        """The normalised event (raises `NormaliseError` for a body that is not one)."""
        if self._event is None:
            self._event = parse_json(self.body)
            self.name = self._event.name
        return self._event
