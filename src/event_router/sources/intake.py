"""The step every line-reading source shares: normalise raw lines, once, ready for the journal.

With translation workers, the lines go to the worker processes, which normalise them and, in the
same pass, translate each event for the (protocol, identity policy) pairs of consumers that keep
up with the journal ("warm" pairs, which the delivery engine keeps current). The event is then
parsed once in its life instead of twice (at ingest and again to translate), the router's main
process never parses it at all, and the translations are handed to delivery as the commit gives
the events their seqs (`delivery.made_at_ingest`). A consumer that lags, or a route that needs
the parsed event, still works from the journal as before. Without workers, lines are normalised
here and nothing is translated ahead. A small chunk (a trickle of events at a quiet moment) is
also normalised here: a round trip to a worker would cost it more time than the work itself.

Every event passes the privacy screen here, whatever its source (`prepare` for lines, `screen`
for events a source parsed itself: HTTP JSON, the event bus): the fields the operator drops are
removed and retired learners' events dropped, before the journal sees them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from event_router.events import TrackingEvent
from event_router.journal import Journal, SqliteJournal
from event_router.privacy.screen import Privacy
from event_router.translate.workers import (
    Prepared,
    ProtocolPolicies,
    TranslationPool,
    prepare_lines,
)

if TYPE_CHECKING:
    from event_router.delivery.made_at_ingest import MadeAtIngest

IN_PROCESS_BELOW = 32_768  # bytes: a trickle is quicker done here than by a round trip


def _no_warm() -> ProtocolPolicies:
    return ()


class Intake:
    """Normalise (and translate ahead) in `pool` when it is running; else in this process."""

    def __init__(
        self,
        journal: Journal,
        pool: TranslationPool | None = None,
        warm: Callable[[], ProtocolPolicies] = _no_warm,
        privacy: Privacy | None = None,
        made: MadeAtIngest | None = None,
    ) -> None:
        self.journal = journal
        self.pool = pool
        self.warm = warm
        self.privacy = privacy or Privacy()
        if made is not None and not isinstance(journal, SqliteJournal):
            # Only SQLite numbers a write's events consecutively (see delivery.made_at_ingest).
            raise ValueError("translations made at ingest are kept on the SQLite journal only")
        self.made = made  # where translations made at ingest wait for the deliveries

    async def prepare(self, chunk: bytes, *, strict: bool = False) -> Prepared:
        """The lines of `chunk` made ready for `commit`; blank lines are skipped silently.
        `strict`: each line is exactly one JSON object (NDJSON), see `prepare_lines`."""
        if self.pool is not None and self.pool.ready and len(chunk) >= IN_PROCESS_BELOW:
            return await self.pool.prepare(chunk, self.warm(), strict=strict)
        screen = self.privacy.screen
        return prepare_lines({}, chunk.splitlines(), keep=True, strict=strict, screen=screen)

    def screen(
        self, events: Sequence[TrackingEvent], bodies: Sequence[bytes]
    ) -> tuple[list[TrackingEvent], list[bytes]]:
        """Events a source parsed itself, through the privacy screen: those kept (fields
        dropped), with their bodies; retired learners' events are counted and left out."""
        if not self.privacy.screen:
            return list(events), list(bodies)
        kept, kept_bodies, dropped = self.privacy.screen.screen(events, bodies)
        self.privacy.dropped += dropped
        return kept, kept_bodies

    async def commit(self, prepared: Prepared, position: tuple[str, str] | None) -> None:
        """Append the prepared events with the source's position in one transaction (raises
        `JournalFull` when refused: nothing is then accepted and the position does not move).
        The translations made ahead are kept for delivery as the commit completes."""
        journal, made = self.journal, self.made
        if prepared.ahead and made is not None and isinstance(journal, SqliteJournal):
            keep = made.on_commit(prepared.ahead)  # run by the writer, before readers see them
            write = journal.submit(
                prepared.bodies,
                position,
                None,
                prepared.events,
                names=prepared.names,
                on_commit=keep,
            )
        else:
            write = journal.submit(
                prepared.bodies, position, None, prepared.events, names=prepared.names
            )
        await asyncio.wrap_future(write)
        self.privacy.dropped += prepared.retired
