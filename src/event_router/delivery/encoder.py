"""Turn journal entries into the bytes one consumer receives: route, translate, override, serialise.

Translations are shared through `TranslationCache`: consumers with the same protocol and identity
policy reuse one translation of each event, so ten xAPI consumers cost one translation — even
when they ask at the same moment: a translation under way is in the cache as a `Pending`, and a
second consumer waits for it instead of translating again. A translation made at ingest
(`MadeAtIngest`) is used before either. With a `TranslationPool`, translating runs in worker
processes; without, in this one.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson

from event_router.delivery.made_at_ingest import MadeAtIngest, no_translations
from event_router.events import NormaliseError
from event_router.journal import Entry
from event_router.journal.entry import REDACTED
from event_router.plugins.chain import DROPPED, HookChain, hooked
from event_router.routing.consumer import Consumer, Protocol
from event_router.routing.identity import NO_LEARNER
from event_router.translate import Options
from event_router.translate.workers import Translated, TranslationPool, translated

FORGOTTEN = "redacted: the learner was forgotten"


@dataclass(frozen=True, slots=True)
class Skip:
    """The consumer does not receive this event, and why (route rule or translation reason)."""

    reason: str
    translation_failed: bool = False


class Pending:
    """Slot `index` of a translation under way: `future` resolves to the whole chunk's results."""

    __slots__ = ("future", "index")

    def __init__(self, future: asyncio.Future[list[Translated]], index: int) -> None:
        self.future = future
        self.index = index

    async def result(self) -> Translated:
        return (await asyncio.shield(self.future))[self.index]


Key = tuple[int, str, str]


class TranslationCache:
    """Bounded LRU of serialised translations keyed by (seq, protocol, identity policy).

    Bounded by the bytes it holds (and by a count, for translations under way and refusals,
    which weigh little): what it is for — consumers of one protocol and policy sharing each
    translation — needs only the span between the fastest and the slowest of them, and a
    count alone let it grow with the size of the statements (~45 MB for 20,000 of them)."""

    def __init__(self, size: int = 20_000, max_bytes: int = 8 << 20) -> None:
        self._items: OrderedDict[Key, Translated | Pending] = OrderedDict()
        self._size = size
        self._max_bytes = max_bytes
        self._bytes = 0

    def get(self, key: Key) -> Translated | Pending | None:
        return self._items.get(key)

    def put(self, key: Key, value: Translated | Pending) -> None:
        old = self._items.get(key)
        if old is not None:
            self._bytes -= _weight(old)
        self._items[key] = value
        self._bytes += _weight(value)
        while len(self._items) > self._size or self._bytes > self._max_bytes:
            _, dropped = self._items.popitem(last=False)
            self._bytes -= _weight(dropped)

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0

    def forget(self, keys: Sequence[Key], future: asyncio.Future[list[Translated]]) -> None:
        """Drop those of `keys` still waiting on `future` (a translation that failed)."""
        for key in keys:
            value = self._items.get(key)
            if isinstance(value, Pending) and value.future is future:
                del self._items[key]  # a Pending weighs nothing: the byte count stands


def _weight(value: Translated | Pending) -> int:
    """The bytes a cached value holds (its serialised items); a reason or a Pending: none."""
    return sum(map(len, value)) if isinstance(value, list) else 0


class Encoder:
    """One consumer's view of the journal: which entries it gets, as which bytes."""

    def __init__(
        self,
        consumer: Consumer,
        options: Options,
        cache: TranslationCache,
        pool: TranslationPool | None = None,
        made: MadeAtIngest | None = None,
    ) -> None:
        self.consumer = consumer
        self.options = options  # (and the guests' options, see the property)
        self._cache = cache
        self._pool = pool
        self._made_at_ingest = made.find if made is not None else no_translations
        self._protocol = consumer.protocol.value
        self._policy = consumer.identity.value
        self._cache_policy = self._policy  # shared with consumers of the same policy
        self._chain: HookChain | None = None
        self._hooks: dict[str, Any] = {}  # the pool's `hooks` argument, for a hooked consumer
        if consumer.hooks and consumer.protocol is not Protocol.EDX:
            self._own_translation()
        # Merged into each item, except where the Caliper sink merges it into its envelope.
        envelope = consumer.protocol is Protocol.CALIPER and consumer.sink == "caliper"
        self._override = {} if envelope else consumer.override_args

    def _own_translation(self) -> None:
        """A consumer with hooks gets translations of its own: it shares none (made ahead at
        ingest, or cached for other consumers), as its hooks change what is translated."""
        names = tuple(self.consumer.hooks)
        self._chain = HookChain(names, self.consumer.name, self._protocol)
        self._hooks = {"hooks": (self.consumer.name, names)}
        self._cache_policy = f"{self._policy}|{self.consumer.name}"

    @property
    def options(self) -> Options:
        return self._options

    @options.setter
    def options(self, options: Options) -> None:
        """The translation options shared with consumers of the same policy; a consumer that
        takes guest learners also gets its own for their events (see `_guests`)."""
        self._options = options
        self._guest_options = (
            replace(options, identity=options.identity.for_guests(self.consumer.name), cache={})
            if self.consumer.guest_learners
            else None
        )

    def _guests(self, entries: Sequence[Entry], results: list[list[bytes] | Skip]) -> None:
        """Translate again, with this consumer's guest pseudonyms, the events the shared
        translation refused for naming no learner (few: a guest's session is short)."""
        guest = self._guest_options
        if guest is None:
            return
        for index, result in enumerate(results):
            if isinstance(result, Skip) and result.reason == NO_LEARNER:
                results[index] = self._finish(self._translate_here(entries[index], guest))

    async def encode_all(self, entries: Sequence[Entry]) -> list[list[bytes] | Skip]:
        """Each entry's items for this consumer (or why none), in order."""
        results: list[list[bytes] | Skip | None] = [None] * len(entries)
        missing: list[int] = []
        waiting: list[tuple[int, Pending]] = []
        protocol, policy = self._protocol, self._cache_policy
        key = (protocol, policy)  # a consumer with hooks finds no translation made ahead
        route = self.consumer.route
        made_at_ingest = self._made_at_ingest  # by seq
        for index, entry in enumerate(entries):
            if entry.name == REDACTED:
                results[index] = Skip(FORGOTTEN)
                continue
            if not route.is_open:
                try:
                    decision = route.decide(entry.event)
                except NormaliseError as exc:
                    results[index] = Skip(f"unreadable journal entry: {exc.reason}", True)
                    continue
                if not decision.allowed:
                    results[index] = Skip(decision.rule)
                    continue
            if self.consumer.protocol is Protocol.EDX:
                results[index] = self._finish(
                    [orjson.dumps(self.options.identity.edx_event(entry.event))]
                )
                continue
            ahead = made_at_ingest(entry.seq)
            cached: Translated | Pending | None = ahead.get(key) if ahead else None
            if cached is None:
                cached = self._cache.get((entry.seq, protocol, policy))
            if cached is None:
                missing.append(index)
            elif isinstance(cached, Pending):
                waiting.append((index, cached))
            else:
                results[index] = self._finish(cached)
        if missing:
            for index, value in zip(missing, await self._translate(entries, missing), strict=True):
                results[index] = self._finish(value)
        for index, pending in waiting:
            try:
                value = await pending.result()
            except Exception:  # the other consumer's translation failed: do it here
                value = self._translate_here(entries[index])
            results[index] = self._finish(value)
        self._guests(entries, results)  # type: ignore[arg-type]  # every slot is filled above
        return results  # type: ignore[return-value]

    async def _translate(self, entries: Sequence[Entry], missing: list[int]) -> list[Translated]:
        """Translate the entries at `missing`, visible to other consumers while under way."""
        protocol, policy = self._protocol, self._policy
        keys = [(entries[i].seq, protocol, self._cache_policy) for i in missing]
        if self._pool is None or len(missing) < self._pool.min_chunk:
            # Here: use the events already parsed (the journal's in-memory tail has them).
            values = [self._translate_here(entries[i]) for i in missing]
        else:
            future: asyncio.Future[list[Translated]] = asyncio.get_running_loop().create_future()
            for position, key in enumerate(keys):
                self._cache.put(key, Pending(future, position))
            try:
                bodies = [entries[i].body for i in missing]
                values = await self._pool.translate(protocol, policy, bodies, **self._hooks)
            except BaseException as exc:
                self._cache.forget(keys, future)
                future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(exc))
                future.exception()  # retrieved: no "never retrieved" warning if nobody waits
                raise
            future.set_result(values)
        for key, value in zip(keys, values, strict=True):
            self._cache.put(key, value)
        return values

    def _translate_here(self, entry: Entry, options: Options | None = None) -> Translated:
        try:
            event = entry.event
        except NormaliseError as exc:
            return exc.reason
        if self._chain is not None:
            return hooked(event, self._protocol, options or self.options, self._chain)
        return translated(event, self._protocol, options or self.options)

    def encode(self, entry: Entry) -> list[bytes] | Skip:
        """One entry, translated here and now (the playground's path; delivery uses encode_all)."""
        if entry.name == REDACTED:
            return Skip(FORGOTTEN)
        decision = self.consumer.route.decide(entry.event)
        if not decision.allowed:
            return Skip(decision.rule)
        if self.consumer.protocol is Protocol.EDX:
            return self._finish([orjson.dumps(self.options.identity.edx_event(entry.event))])
        result = self._finish(self._translate_here(entry))
        if isinstance(result, Skip) and result.reason == NO_LEARNER and self._guest_options:
            return self._finish(self._translate_here(entry, self._guest_options))
        return result

    def _finish(self, value: Translated) -> list[bytes] | Skip:
        """The consumer's bytes from a shared translation: its activity types kept, its
        overrides merged (each item parsed once, and only for consumers that have either)."""
        if isinstance(value, str):
            return Skip(value, translation_failed=not value.startswith(DROPPED))
        route = self.consumer.route
        if not (self._override or route.activity_types):
            return value
        items = [orjson.loads(item) for item in value]
        kept = [(raw, item) for raw, item in zip(value, items, strict=True) if route.keeps(item)]
        if not kept:
            return Skip("activity type not in activity_types")
        if self._override:
            return [orjson.dumps({**item, **self._override}) for _, item in kept]
        return [raw for raw, _ in kept]
