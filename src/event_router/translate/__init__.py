"""Translation: a pure function from a tracking event (and a consumer's options) to xAPI or Caliper.

One registry per protocol maps event names to small functions, one module per event family.
`translate()` is the only entry point the rest of the router uses.
"""

from __future__ import annotations

from typing import Any

import orjson

from event_router.events import TrackingEvent
from event_router.routing.consumer import Protocol
from event_router.routing.identity import UnknownLearner
from event_router.translate.errors import TranslationError, Unsupported
from event_router.translate.options import Options
from event_router.translate.registry import Registry

# The protocols translated here (a consumer's `Protocol`; `edx` passes events through as they are).
PROTOCOLS: tuple[Protocol, ...] = (Protocol.XAPI, Protocol.CALIPER)

__all__ = [
    "PROTOCOLS",
    "Options",
    "TranslationError",
    "Unsupported",
    "registry",
    "translate",
    "translate_bytes",
]


def registry(protocol: str) -> Registry:
    """The name → translation table of one protocol."""
    found = _REGISTRIES.get(protocol)
    if found is not None:
        return found
    if protocol == "xapi":
        from event_router.translate.xapi import registry as xapi

        found = xapi
    elif protocol == "caliper":
        from event_router.translate.caliper import registry as caliper

        found = caliper
    else:
        raise ValueError(f"unknown protocol {protocol!r} (expected one of {', '.join(PROTOCOLS)})")
    # The table-driven families register into both protocols; imported once both modules exist.
    from event_router.plugins.loader import install_translations
    from event_router.translate import families  # noqa: F401

    install_translations(found)  # installed packages' translations, added or replacing ours
    _REGISTRIES[protocol] = found
    return found


_REGISTRIES: dict[str, Registry] = {}  # filled on first use: each family module imports lazily


# What a translation raises when the payload is not the shape it expects: a refusal, not a bug.
_MALFORMED = (TypeError, ValueError, AttributeError, IndexError, ArithmeticError, RecursionError)


def translate(event: TrackingEvent, protocol: str, options: Options) -> list[dict[str, Any]]:
    """Translate one event; raise `TranslationError` (with a reason) when it cannot be.

    A malformed payload (a field of the wrong type, a missing key a translation needs) becomes a
    `TranslationError` naming the problem, so a bad event is skipped with a reason and never
    stops the flow.
    """
    fn = registry(protocol).get(event.name)
    options = options.for_event(event)  # its own site's LMS URL and users, with several sites
    try:
        return fn(event, options)
    except TranslationError:
        raise
    except UnknownLearner as exc:
        raise TranslationError(str(exc)) from None
    except KeyError as exc:
        raise TranslationError(f"missing field {exc}") from None
    except _MALFORMED as exc:
        raise TranslationError(f"malformed event ({type(exc).__name__}: {exc})") from None


def translate_bytes(event: TrackingEvent, protocol: str, options: Options) -> list[bytes]:
    """`translate`, each item serialised to JSON; an item JSON cannot carry (an integer beyond
    64 bits, say a completion of 2**62 made a percentage) is a `TranslationError` like any other
    refusal, never an exception that stops a delivery or a source."""
    items = translate(event, protocol, options)
    try:
        return [orjson.dumps(item) for item in items]
    except orjson.JSONEncodeError as exc:
        raise TranslationError(f"the translation cannot be written as JSON ({exc})") from None
