"""IMS Caliper 1.2: the envelope and event every family's rows are assembled into (`common`)."""

from event_router.translate.caliper.common import registry

__all__ = ["registry"]
