"""IMS Caliper 1.2 events for Open edX events, one module per event family."""

from event_router.translate.caliper import (  # noqa: F401  (each module registers its events)
    problem,
)
from event_router.translate.caliper.common import registry

__all__ = ["registry"]
