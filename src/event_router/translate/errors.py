"""Why an event produced no translation."""

from __future__ import annotations


class TranslationError(ValueError):
    """The event cannot be translated for this consumer; `reason` says why in a few words.

    Raised for events that lack what the standard requires (no learner, no course where one is
    needed, a payload of the wrong shape). The event is skipped for that consumer and the reason
    recorded; nothing else is affected.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unsupported(TranslationError):
    """No translation is registered for this event name in this protocol."""
