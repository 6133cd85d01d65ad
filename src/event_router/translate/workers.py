"""Translation in worker processes, so a router uses more than the one core Python gives it.

The main process keeps what must be ordered and durable (sources, journal, cursors, sending);
translating and serialising — most of the CPU an event costs — runs in the router's one
`TranslationPool`, which sources (normalising lines, translating ahead at ingest) and delivery
share. Workers are started with the router's secret and the identity and course tables, so they
produce exactly the bytes an in-process translation would; a new pool replaces the old when those
tables change.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from event_router.events import NormaliseError, TrackingEvent, line_json, parse_json
from event_router.plugins import figures
from event_router.plugins.chain import HookChain, hooked
from event_router.privacy.screen import Screen
from event_router.routing.catalogue import CourseCatalogue
from event_router.routing.identity import IdentityPolicy, IdentityTable, Policy
from event_router.translate import Options, TranslationError, translate_bytes
from event_router.translate.pool import WorkerPool

log = logging.getLogger(__name__)
_T = TypeVar("_T")

Translated = list[bytes] | str  # the serialised items, or why there are none
# One event's translations made at ingest, by (protocol, identity policy); delivery keeps them
# by the event's seq (`delivery.made_at_ingest`).
IngestTranslations = dict[tuple[str, str], Translated]
# The (protocol, identity policy) pairs that sources translate ahead, at ingest.
ProtocolPolicies = tuple[tuple[str, str], ...]

_OPTIONS: dict[str, Options] = {}
Hooks = tuple[str, tuple[str, ...]] | None  # (consumer, its hooks in order), or None: no hooks
_CHAINS: dict[tuple[str, tuple[str, tuple[str, ...]]], HookChain] = {}
_SCREEN = Screen()


def build_options(
    secret: str, lms_url: str, table: IdentityTable, catalogue: CourseCatalogue
) -> dict[str, Options]:
    """One `Options` per identity policy, sharing the tables (the engine does the same)."""
    return {
        policy.value: Options(
            lms_url=lms_url,
            identity=IdentityPolicy(secret, lms_url, table, policy),
            courses=catalogue,
        )
        for policy in Policy
    }


def translate_bodies(
    options: Options, protocol: str, bodies: Sequence[bytes], chain: HookChain | None = None
) -> list[Translated]:
    """Parse, translate and serialise journal bodies; a reason string for each failure. With a
    consumer's hook `chain`, its hooks run around each translation."""
    out: list[Translated] = []
    for body in bodies:
        try:
            event = parse_json(body)
        except NormaliseError as exc:
            out.append(exc.reason)
            continue
        out.append(
            translated(event, protocol, options)
            if chain is None
            else hooked(event, protocol, options, chain)
        )
    return out


def translated(event: TrackingEvent, protocol: str, options: Options) -> Translated:
    """The serialised items of `event`, or why there are none. Never raises: a bug in one
    translation costs that event (skipped with the reason, and logged), not the source or the
    delivery that asked."""
    try:
        return translate_bytes(event, protocol, options)
    except TranslationError as exc:
        return exc.reason
    except Exception as exc:
        log.exception("translating %s to %s failed", event.name, protocol)
        return f"internal error ({type(exc).__name__}: {exc})"


@dataclass(slots=True)
class Prepared:
    """Raw lines made ready for the journal: each valid one's JSON body and event name, why the
    others were refused (by line index), and translations made ahead for consumers keeping up."""

    bodies: list[bytes] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    rejects: list[tuple[int, str]] = field(default_factory=list)
    ahead: list[IngestTranslations] | None = None
    lines: int = 0  # how many lines were read (blank ones included)
    items: int = 0  # how many of them were not blank
    strict: bool = False  # rejections are numbered by item (non-blank line), not by line
    events: list[TrackingEvent] | None = None  # the parsed events, when prepared in-process
    retired: int = 0  # events dropped because their learner was forgotten (privacy screen)

    def extend(self, other: Prepared) -> None:
        self.retired += other.retired
        self.bodies += other.bodies
        self.names += other.names
        offset = self.items if self.strict else self.lines
        self.rejects += [(index + offset, reason) for index, reason in other.rejects]
        self.lines += other.lines
        self.items += other.items
        if other.ahead is not None:
            self.ahead = (self.ahead or []) + other.ahead


def prepare_lines(
    options: dict[str, Options],
    lines: Sequence[bytes],
    warm: ProtocolPolicies = (),
    *,
    keep: bool = False,
    strict: bool = False,
    screen: Screen | None = None,
) -> Prepared:
    """Normalise each line (once: the event is not parsed again to translate it) and translate
    it for every `warm` pair; blank lines are skipped silently, as a log writer may leave them.
    `keep` keeps the parsed events (worth it in-process, not across a process boundary).

    A log line may carry a logger prefix before its JSON; with `strict` (NDJSON posted to the
    ingest endpoint) each line must be exactly one JSON object, and a rejection's index counts
    only the non-blank lines (the items of the request). `screen` (the privacy screen) drops
    fields and retired learners' events before anything else sees them."""
    out = Prepared(
        ahead=[] if warm else None, lines=len(lines), events=[] if keep else None, strict=strict
    )
    index = -1
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        index += 1
        try:
            body = line.strip() if strict else line_json(line)
            event = parse_json(body)
        except NormaliseError as exc:
            out.rejects.append((index if strict else number, str(exc)))
            continue
        if screen:
            screened = screen.apply(event, body)
            if screened is None:
                out.retired += 1
                continue
            event, body = screened
        out.bodies.append(body)
        out.names.append(sys.intern(event.name))  # a few hundred names: pickled once each
        if out.events is not None:
            out.events.append(event)
        if out.ahead is None:
            continue
        made: IngestTranslations = {}
        for pair in warm:  # the same key objects each time: pickled once per chunk
            made[pair] = translated(event, pair[0], options[pair[1]])
        out.ahead.append(made)
    out.items = index + 1
    return out


def _init(
    secret: str,
    lms_url: str,
    table: IdentityTable,
    catalogue: CourseCatalogue,
    screen: Screen,
    plugin_figures: Any = None,
) -> None:
    import gc

    global _SCREEN
    gc.set_threshold(20_000, 10, 10)  # as the main process: young often enough, full ones too
    _OPTIONS.update(build_options(secret, lms_url, table, catalogue))
    _SCREEN = screen
    figures.send_to(plugin_figures)


def _work(
    protocol: str, policy: str, bodies: Sequence[bytes], hooks: Hooks = None
) -> list[Translated]:
    if hooks is None:
        done = translate_bodies(_OPTIONS[policy], protocol, bodies)
    else:
        done = _work_hooked(protocol, policy, bodies, hooks)
    figures.flush()  # plugins' figures, if any ran
    return done


def _work_hooked(
    protocol: str, policy: str, bodies: Sequence[bytes], hooks: tuple[str, tuple[str, ...]]
) -> list[Translated]:
    """A consumer's own translation with its hooks; the chain is built once per worker."""
    chain = _CHAINS.get((protocol, hooks))
    if chain is None:
        chain = _CHAINS[(protocol, hooks)] = HookChain(hooks[1], hooks[0], protocol)
    return translate_bodies(_OPTIONS[policy], protocol, bodies, chain)


def _prepare(chunk: bytes, warm: ProtocolPolicies, strict: bool) -> Prepared:
    done = prepare_lines(_OPTIONS, chunk.splitlines(), warm, strict=strict, screen=_SCREEN)
    figures.flush()
    return done


class TranslationPool:
    """A process pool translating journal bodies; falls back to in-process work if it breaks."""

    def __init__(self, workers: int, min_chunk: int = 64) -> None:
        self.workers = workers
        self.min_chunk = min_chunk
        self._pool: WorkerPool | None = None
        self._args: _Args | None = None
        self._fallback: dict[str, Options] = {}

    def configure(
        self,
        secret: str,
        lms_url: str,
        table: IdentityTable,
        catalogue: CourseCatalogue,
        screen: Screen | None = None,
    ) -> None:
        """(Re)start the workers with these tables and privacy screen, unless they already have
        equal ones (a learner forgotten changes the screen: rare, and a restart is cheap)."""
        args = (secret, lms_url, table, catalogue, screen if screen is not None else Screen())
        if self._args is not None and _same(self._args, args):
            return
        if self._pool is not None:  # work already queued finishes with the old tables
            self._pool.executor.shutdown(wait=False, cancel_futures=False)
        self._args = args
        self._fallback = build_options(*args[:4])
        # Started now, not when the first events wait for them; spawned, as the router has
        # threads and connections by now that a fork would copy.
        self._pool = WorkerPool(self.workers, _init, (*args, figures.worker_queue()))

    @property
    def ready(self) -> bool:
        """Whether `configure` has been called (the workers know the identity tables)."""
        return self._pool is not None

    async def translate(
        self, protocol: str, policy: str, bodies: Sequence[bytes], hooks: Hooks = None
    ) -> list[Translated]:
        """Translate in the workers, split so every worker gets a share; order is kept.
        `hooks`: the consumer whose hooks run around each translation, and their names."""
        size = max(self.min_chunk, -(-len(bodies) // self.workers))
        chunks = [bodies[i : i + size] for i in range(0, len(bodies), size)]
        parts = await self._map(_work, [(protocol, policy, c, hooks) for c in chunks])
        if parts is None:
            chain = HookChain(hooks[1], hooks[0], protocol) if hooks else None
            return translate_bodies(self._fallback[policy], protocol, bodies, chain)
        return [item for part in parts for item in part]

    async def prepare(
        self, chunk: bytes, warm: ProtocolPolicies, *, strict: bool = False
    ) -> Prepared:
        """`prepare_lines` over the lines of `chunk`, in the workers (split between them)."""
        pieces = _split_lines(chunk, self.workers)
        parts = await self._map(_prepare, [(piece, warm, strict) for piece in pieces])
        if parts is None:
            screen = self._args[4] if self._args else None
            return prepare_lines(
                self._fallback, chunk.splitlines(), warm, strict=strict, screen=screen
            )
        out = Prepared(ahead=[] if warm else None, strict=strict)
        for prepared in parts:
            out.extend(prepared)
        return out

    async def _map(self, fn: Callable[..., _T], calls: list[tuple[Any, ...]]) -> list[_T] | None:
        """`fn(*args)` for each of `calls` in the workers, in order; None if a worker died (the
        pool is restarted and the caller does the work in-process this once)."""
        if self._pool is None:
            raise RuntimeError("TranslationPool.configure() was not called")
        done = await self._pool.map(fn, calls)
        if done is None:
            log.error("translation workers died; working in-process and restarting them")
            args, self._args = self._args, None
            if args is not None:
                self.configure(*args)
        return done

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


def _split_lines(chunk: bytes, parts: int) -> list[bytes]:
    """`chunk` cut at line ends into about `parts` pieces (one, for a small chunk)."""
    if parts <= 1 or len(chunk) < 64_000:
        return [chunk]
    size, pieces, start = len(chunk) // parts, [], 0
    while start < len(chunk):
        cut = chunk.find(b"\n", start + size)
        end = len(chunk) if cut < 0 else cut + 1
        pieces.append(chunk[start:end])
        start = end
    return pieces


_Args = tuple[str, str, IdentityTable, CourseCatalogue, Screen]


def _same(old: _Args, new: _Args) -> bool:
    return all(a == b for a, b in zip(old, new, strict=True))
