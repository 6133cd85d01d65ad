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
        # Names that are not fixed (a server page view is named by its URL path): prefix → fn.
        self._prefixes: dict[str, Translation] = {}

    def register(self, *names: str) -> Callable[[Translation], Translation]:
        """Decorator: `fn` translates every event in `names`. A name is registered once only."""

        def decorate(fn: Translation) -> Translation:
            for name in names:
                if name in self._table:
                    raise ValueError(f"{self.protocol}: {name} registered twice")
                self._table[name] = fn
            return fn

        return decorate

    def replace(self, name: str, fn: Translation) -> None:
        """`fn` translates `name` from now on, in place of any translation it had (plugins)."""
        self._table[name] = fn

    def register_prefix(self, prefix: str, fn: Translation) -> None:
        """`fn` translates every name starting with `prefix` that has no translation of its own."""
        if prefix in self._prefixes:
            raise ValueError(f"{self.protocol}: prefix {prefix} registered twice")
        self._prefixes[prefix] = fn

    def get(self, name: str) -> Translation:
        found = self._table.get(name)
        if found is not None:
            return found
        for prefix, fn in self._prefixes.items():
            if name.startswith(prefix):
                return fn
        raise Unsupported(f"no {self.protocol} translation for this event")

    def __contains__(self, name: object) -> bool:
        if name in self._table:
            return True
        return isinstance(name, str) and any(name.startswith(p) for p in self._prefixes)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._table))

    def __len__(self) -> int:
        return len(self._table)
