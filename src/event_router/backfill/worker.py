"""The translating half of a backfill, run in worker processes: a block of log lines in, the bytes
each chosen consumer receives out.

It is the live router's own path: `normalise` → `Encoder` (route, translate with the consumer's
identity policy, overrides, serialise) with a `TranslationCache`, so consumers with the same
protocol and policy share one translation, and a backfilled statement is byte for byte what the
running router would have sent.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from event_router.delivery.encoder import Encoder, Skip, TranslationCache
from event_router.events import NormaliseError, line_json, parse_json
from event_router.journal import Entry
from event_router.privacy.screen import Screen
from event_router.routing.catalogue import CourseCatalogue
from event_router.routing.consumer import Consumer
from event_router.routing.identity import IdentityPolicy, IdentityTable, Policy
from event_router.translate import Options

_EXAMPLES = 20  # malformed lines reported with their location, per block


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything a worker needs, fixed for the whole backfill (passed once, at start)."""

    consumers: list[Consumer]
    lms_url: str
    secret_key: str
    identities: IdentityTable
    catalogue: CourseCatalogue
    since: datetime | None = None
    until: datetime | None = None
    screen: Screen = field(default_factory=Screen)  # the live router's privacy screen


@dataclass(slots=True)
class Part:
    """One consumer's share of a block: payloads with the index of the line each came from."""

    lines: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    payloads: list[bytes] = field(default_factory=list)
    events: int = 0  # events that gave this consumer at least one payload
    skipped: Counter[str] = field(default_factory=Counter)  # not for this consumer (route)
    untranslatable: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class Translated:
    """A block's outcome: counts for the report and one `Part` per consumer, in plan order."""

    read: int = 0  # non-blank lines looked at
    malformed: Counter[str] = field(default_factory=Counter)
    examples: list[tuple[int, str]] = field(default_factory=list)  # (line index, reason)
    outside: int = 0  # before --since or from --until on
    retired: int = 0  # events of forgotten learners, never sent
    parts: list[Part] = field(default_factory=list)


class Translator:
    """The plan, made ready: options per identity policy, an encoder per consumer."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        cache = TranslationCache()
        options: dict[Policy, Options] = {}
        self.encoders = []
        for consumer in plan.consumers:
            policy = consumer.identity
            if policy not in options:
                identity = IdentityPolicy(plan.secret_key, plan.lms_url, plan.identities, policy)
                options[policy] = Options(
                    lms_url=plan.lms_url, identity=identity, courses=plan.catalogue
                )
            self.encoders.append(Encoder(consumer, options[policy], cache))
        self._seq = itertools.count(1)

    def block(self, block: bytes, start: int = 0) -> Translated:
        """Translate the lines of `block` from index `start` on (earlier ones were done before)."""
        out = Translated(parts=[Part() for _ in self.encoders])
        since, until, screen = self.plan.since, self.plan.until, self.plan.screen
        lines = block.split(b"\n")
        for index in range(start, len(lines)):
            line = lines[index]
            if not line.strip():
                continue
            out.read += 1
            try:
                event = parse_json(line_json(line))
            except NormaliseError as exc:
                out.malformed[_short(exc.reason)] += 1
                if len(out.examples) < _EXAMPLES:
                    out.examples.append((index, str(exc)))
                continue
            if (since is not None and event.time < since) or (
                until is not None and event.time >= until
            ):
                out.outside += 1
                continue
            if screen:
                screened = screen.event(event)
                if screened is None:
                    out.retired += 1
                    continue
                event = screened
            entry = Entry(next(self._seq), 0.0, event)
            for encoder, part in zip(self.encoders, out.parts, strict=True):
                encoded = encoder.encode(entry)
                if isinstance(encoded, Skip):
                    target = part.untranslatable if encoded.translation_failed else part.skipped
                    target[encoded.reason] += 1
                    continue
                part.events += 1
                part.lines.extend([index] * len(encoded))
                part.names.extend([event.name] * len(encoded))
                part.payloads.extend(encoded)
        return out


def _short(reason: str) -> str:
    """A reason without the parser's position details, so that alike lines count together."""
    return reason.split(" (", 1)[0]


# -- the process pool's side --------------------------------------------------------------------

_translator: Translator | None = None


def start(plan: Plan) -> None:
    """Pool initializer: build this process's translator once."""
    global _translator
    _translator = Translator(plan)


def translate_block(block: bytes, start_index: int = 0) -> Translated:
    """Pool task: translate one block with this process's translator."""
    if _translator is None:
        raise RuntimeError("backfill worker used before start()")
    return _translator.block(block, start_index)
