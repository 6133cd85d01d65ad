"""The normalised tracking event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    """One Open edX tracking event, whatever layout it arrived in.

    `timestamp` is the time exactly as the source wrote it: xAPI statement timestamps and ids are
    built from that string (as ERB does), so it must survive untouched. `time` is the same instant,
    parsed and timezone-aware, for everything that compares or formats times.

    `context` holds the event's context with the tracking-log top-level fields (`username`,
    `session`, `referer`, `event_source`, ...) folded in, so translations read one place. `data` is
    the event payload: a dict for almost every event, a string for a few browser events
    (`problem_check` sends its form as a query string). `raw` is the object as received, kept for
    routes whose `match_params` address the original shape.
    """

    name: str
    timestamp: str
    time: datetime
    data: Any
    context: dict[str, Any]
    raw: dict[str, Any]

    @property
    def course_id(self) -> str | None:
        value = self.context.get("course_id")
        return value if isinstance(value, str) and value else None

    @property
    def org_id(self) -> str | None:
        value = self.context.get("org_id")
        return value if isinstance(value, str) and value else None

    @property
    def user_key(self) -> str | None:
        """The learner the event is about: user id preferred over username, `data` over `context`.

        `data` wins because in some events (an instructor enrolling a learner) `context` names the
        actor and `data` the learner the event is about; ids win because usernames can change.
        """
        data = self.data if isinstance(self.data, dict) else {}
        for source, key in (
            (data, "user_id"),
            (data, "username"),
            (self.context, "user_id"),
            (self.context, "username"),
        ):
            value = source.get(key)
            if value or value == 0:
                if isinstance(value, bool) or not isinstance(value, str | int):
                    continue
                return str(value)
        return None

    @property
    def session(self) -> str | None:
        value = self.context.get("session")
        return value if isinstance(value, str) and value else None

    def as_dict(self) -> dict[str, Any]:
        """The event in the event-tracking layout (the `edx` protocol's output)."""
        return {
            "name": self.name,
            "timestamp": self.timestamp,
            "data": self.data,
            "context": self.context,
        }
