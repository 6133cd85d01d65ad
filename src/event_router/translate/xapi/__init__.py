"""xAPI statements for Open edX events, one module per event family."""

from event_router.translate.xapi import (  # noqa: F401  (each module registers its events)
    exam,
    forum,
    grading,
    problem,
)
from event_router.translate.xapi.common import registry

__all__ = ["registry"]
