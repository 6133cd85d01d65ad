"""A name → translation table, one per protocol."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from event_router.events import TrackingEvent
from event_router.translate.errors import Unsupported
from event_router.translate.options import Options

Translation = Callable[[TrackingEvent, Options], list[dict[str, Any]]]


class Registry:
    """Maps event names to the function that translates them."""

    def __init__(self, protocol: str) -> None:
        self.protocol = protocol
        self._table: dict[str, Translation] = {}

    def register(self, *names: str) -> Callable[[Translation], Translation]:
        """Decorator: `fn` translates every event in `names`. A name is registered once only."""

        def decorate(fn: Translation) -> Translation:
            for name in names:
                if name in self._table:
                    raise ValueError(f"{self.protocol}: {name} registered twice")
                self._table[name] = fn
            return fn

        return decorate

    def get(self, name: str) -> Translation:
        try:
            return self._table[name]
        except KeyError:
            raise Unsupported(f"no {self.protocol} translation for this event") from None

    def __contains__(self, name: object) -> bool:
        return name in self._table

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._table))

    def __len__(self) -> int:
        return len(self._table)
