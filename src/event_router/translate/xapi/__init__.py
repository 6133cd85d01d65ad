"""xAPI: the statement every family's rows are assembled into (`common`), and the vocabulary."""

from event_router.translate.xapi.common import registry

__all__ = ["registry"]
