"""Which sinks exist: one table keyed by sink kind, filled by the module that defines each sink.

A sink is a self-contained component: its module says, in one `register(SinkType(...))`, how to
build it for a consumer, which protocols and URLs it takes, its own typed options (a consumer's
`sink_options`), and how the admin's "Test connection" probes it. Adding a sink is one new module
in this package (and its tests): every module here is imported when the table is first read
(one whose optional library is not installed is left out, with a warning).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError

if TYPE_CHECKING:
    from event_router.routing.consumer import Consumer
    from event_router.sinks.base import Sink

log = logging.getLogger(__name__)
Check = Callable[["Consumer"], Awaitable[dict[str, Any]]]


class NoOptions(BaseModel):
    """The options of a sink that has none of its own."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True, slots=True)
class SinkType:
    """One kind of sink, as its module registers it."""

    kind: str
    build: Callable[[Consumer], Sink]
    summary: str  # one line for people (CLI help, docs)
    protocols: frozenset[str] | None = None  # the protocols it can carry (None: every one)
    schemes: tuple[str, ...] | None = None  # URL schemes it takes (None: any, checked by `build`)
    options: type[BaseModel] = NoOptions  # its own settings: the consumer's `sink_options`
    check: Check | None = None  # "Test connection"; None: one sample item through the sink
    # For consumers stored before `sink_options`: settings that rode in the URL's query string,
    # as (the URL without them, those settings).
    legacy_url: Callable[[str], tuple[str, dict[str, Any]]] | None = None

    def validate(self, consumer: Consumer) -> dict[str, Any]:
        """The consumer's `sink_options` checked against this sink (ValueError if unfit)."""
        if self.protocols is not None and consumer.protocol.value not in self.protocols:
            wanted = " or ".join(sorted(self.protocols))
            raise ValueError(f"a {self.kind} sink takes protocol {wanted}")
        if self.schemes is not None and not consumer.url.startswith(self.schemes):
            http = set(self.schemes) == {"http://", "https://"}
            schemes = "http(s)" if http else " or ".join(self.schemes)
            raise ValueError(f"url must be {schemes} for a {self.kind} sink")
        try:
            options = self.options.model_validate(consumer.sink_options)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'options'}: {e['msg']}"
                for e in exc.errors()
            )
            raise ValueError(f"sink_options of a {self.kind} sink: {problems}") from None
        return options.model_dump(exclude_unset=True)

    def settings(self, consumer: Consumer) -> Any:
        """The consumer's options as this sink's typed model."""
        return self.options.model_validate(consumer.sink_options)


_SINKS: dict[str, SinkType] = {}
_loaded = False
_lock = threading.Lock()


def register(sink_type: SinkType) -> SinkType:
    """Add a sink to the table (each sink module calls this once, at import)."""
    if _SINKS.get(sink_type.kind, sink_type) is not sink_type:
        raise ValueError(f"two sinks of kind {sink_type.kind!r}")
    _SINKS[sink_type.kind] = sink_type
    return sink_type


def sink_types() -> dict[str, SinkType]:
    """Every sink, by kind."""
    global _loaded
    if not _loaded:
        with _lock:
            if not _loaded:
                import event_router.sinks as package

                for module in pkgutil.iter_modules(package.__path__):
                    try:
                        importlib.import_module(f"{package.__name__}.{module.name}")
                    except ModuleNotFoundError as exc:  # an optional library not installed
                        log.warning("sink module %s not available: %s", module.name, exc)
                _loaded = True
    return _SINKS


def sink_type(kind: str) -> SinkType:
    """The sink of `kind`; ValueError for one that does not exist."""
    found = sink_types().get(kind)
    if found is None:
        known = ", ".join(sorted(sink_types()))
        raise ValueError(f"unknown sink {kind!r} (known: {known})")
    return found
