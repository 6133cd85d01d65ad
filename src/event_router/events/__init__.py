"""Tracking events: the one internal shape every source produces and every translation reads."""

from event_router.events.model import TrackingEvent
from event_router.events.normalise import (
    NormaliseError,
    line_json,
    normalise,
    parse_json,
    parse_line,
)

__all__ = ["NormaliseError", "TrackingEvent", "line_json", "normalise", "parse_json", "parse_line"]
