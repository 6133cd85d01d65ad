"""Finding installed plugins (entry points) and putting them to work.

Loaded once per process, on first use: the translation registries take the translations when they
are built, consumers' hook chains look their hooks up here. A plugin that cannot be loaded (an
import error, an entry point naming the wrong kind of object) is logged and left out, and
`event-router plugins list` shows why: one broken package never stops the router.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from event_router.events import TrackingEvent
from event_router.plugins import Hook, TranslateFn, Translation
from event_router.plugins.chain import FAILURES
from event_router.plugins.figures import record
from event_router.translate.errors import TranslationError
from event_router.translate.options import Options
from event_router.translate.registry import Registry
from event_router.translate.registry import Translation as RegistryFn

log = logging.getLogger(__name__)

TRANSLATORS = "event_router.translators"
HOOKS = "event_router.hooks"


@dataclass(frozen=True, slots=True)
class Plugin:
    """One entry point, loaded or not."""

    name: str
    kind: str  # "translator" or "hook"
    entry_point: str  # module:attribute
    package: str
    version: str
    translations: tuple[Translation, ...] = ()
    hook: Hook | None = None
    error: str | None = None
    stages: tuple[str, ...] = field(default=())

    @property
    def events(self) -> list[str]:
        return sorted({name for t in self.translations for name in t.events})


def _load(ep: EntryPoint, kind: str) -> Plugin:
    dist = getattr(ep, "dist", None)
    package = dist.name if dist is not None else "?"
    version = dist.version if dist is not None else "?"
    base = Plugin(ep.name, kind, ep.value, package, version)
    try:
        value = ep.load()
        if kind == "translator":
            found = tuple(value) if isinstance(value, list | tuple) else (value,)
            if not found or not all(isinstance(t, Translation) for t in found):
                raise TypeError("expected an event_router.plugins.Translation (or a list)")
            return replace(base, translations=found)
        if not isinstance(value, Hook):
            raise TypeError("expected an event_router.plugins.Hook")
        stages = tuple(s for s in ("before", "after") if getattr(value, s) is not None)
        return replace(base, hook=value, stages=stages)
    except FAILURES as exc:  # a broken plugin is reported, never fatal
        log.error("plugin %s (%s) cannot be loaded: %s", ep.name, ep.value, exc)
        return replace(base, error=f"{exc}")


@cache
def installed() -> tuple[Plugin, ...]:
    """Every plugin entry point of the installed packages, translators first, by name."""
    found = [_load(ep, "translator") for ep in entry_points(group=TRANSLATORS)]
    found += [_load(ep, "hook") for ep in entry_points(group=HOOKS)]
    return tuple(sorted(found, key=lambda p: (p.kind != "translator", p.name)))


def hooks() -> dict[str, Hook]:
    """The loaded hooks by name."""
    return {p.name: p.hook for p in installed() if p.hook is not None}


def missing_hooks(names: list[str]) -> list[str]:
    """Those of `names` that no installed plugin provides."""
    found = hooks()
    return [name for name in names if name not in found]


def install_translations(registry: Registry) -> None:
    """Add (or put in place of the router's own) the plugins' translations for this protocol."""
    for plugin in installed():
        for translation in plugin.translations:
            fn = getattr(translation, registry.protocol, None)
            if fn is None:
                continue
            guarded = _guarded(plugin.name, registry.protocol, fn)
            for name in translation.events:
                registry.replace(name, guarded)


def _guarded(plugin: str, protocol: str, fn: TranslateFn) -> RegistryFn:
    """`fn`, timed and counted; what it raises refuses the event with a reason naming it."""
    stage = f"translate:{protocol}"

    def run(event: TrackingEvent, options: Options) -> list[dict[str, Any]]:
        start = time.perf_counter()
        try:
            items = fn(event, options)
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise TypeError(f"returned {type(items).__name__}, not a list of objects")
        except TranslationError:
            record(plugin, stage, "dropped", time.perf_counter() - start)
            raise
        except FAILURES as exc:
            record(plugin, stage, "failed", time.perf_counter() - start)
            raise TranslationError(
                f"plugin {plugin} failed ({type(exc).__name__}: {exc})"
            ) from None
        record(plugin, stage, "ok", time.perf_counter() - start)
        return items

    return run
