"""One consumer's side of a backfill: large batches, several in flight, checkpoints as they settle.

Sending reuses the live delivery's `Sender`, so retries (forever, with backoff), splitting of
rejected batches and dead letters behave exactly as for live traffic. A batch's checkpoint moves
are applied only when it and every batch before it have settled, so a checkpoint never claims a
line whose statements are not at the consumer.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from event_router.backfill.checkpoints import Checkpoints
from event_router.backfill.worker import Part
from event_router.delivery.sender import Item, Sender, describe
from event_router.delivery.stats import Stats
from event_router.events import NormaliseError, line_json
from event_router.routing.consumer import Consumer
from event_router.sinks.base import Sink
from event_router.sinks.outcome import Outcome, Verdict
from event_router.store import Store
from event_router.translate.validate import invalid

# file index → (lines handled from the top, whole file handled)
FileProgress = dict[int, tuple[int, bool]]


class DrySink:
    """A dry run's sink: takes every batch as delivered and sends nothing anywhere."""

    async def send(self, items: Sequence[bytes]) -> Outcome:
        return Outcome(Verdict.DELIVERED)

    async def close(self) -> None:
        return None


class Refused(RuntimeError):
    """The consumer refused our credentials or configuration: a backfill cannot go on."""


@dataclass(slots=True)
class LineItem(Item):
    """An item and the input line it came from (`seq` is the line number)."""

    file: int
    block: bytes  # the block holding the line (shared, not copied), for dead letters
    index: int  # the line's index in the block


@dataclass(frozen=True, slots=True)
class FileRef:
    """What checkpoints need of an input: its name and its first bytes."""

    name: str
    head: bytes


class Target:
    """Batches, sends and checkpoints for one consumer."""

    def __init__(
        self,
        consumer: Consumer,
        sink: Sink,
        store: Store,
        checkpoints: Checkpoints,
        stopping: asyncio.Event,
        *,
        batch_size: int,
        in_flight: int,
    ) -> None:
        self.consumer = consumer
        self.name = consumer.name
        self.store = store
        self.checkpoints = checkpoints
        self.batch_size = batch_size
        self.in_flight = in_flight
        self.stats = Stats()
        self.sender = Sender(self.name, sink, self._dead_letter, self.stats, stopping, _refuse)
        protocol = consumer.protocol.value
        self._validate = protocol if consumer.validate_items else None  # see Delivery._valid
        self.events = 0  # events that gave this consumer something to send
        self.statements = 0  # items handed to the sink
        self.skipped: Counter[str] = Counter()
        self.untranslatable: Counter[str] = Counter()
        self.files: dict[int, FileRef] = {}
        self._resume: dict[int, int] = {}  # file → lines handled by an earlier run
        self._handled: dict[int, int] = {}
        self._batch: list[Item] = []
        self._moves: FileProgress = {}
        self._pipeline: deque[tuple[asyncio.Task[None], FileProgress]] = deque()

    def begin_file(self, file: int, ref: FileRef, handled: int, done: bool) -> None:
        """A file starts; `handled` lines of it reached the consumer in an earlier run."""
        self.files[file] = ref
        self._resume[file] = -1 if done else handled
        self._handled[file] = handled

    async def add(self, file: int, first_line: int, block: bytes, part: Part, lines: int) -> None:
        """Queue a translated block (`first_line` is the number of its first line; it has
        `lines` lines) and send every batch it fills."""
        resume = self._resume[file]
        if resume < 0:
            return  # this consumer had the whole file already
        self.events += part.events
        self.skipped.update(part.skipped)
        self.untranslatable.update(part.untranslatable)
        now = time.time()
        names, payloads = part.names, part.payloads
        for position, index in enumerate(part.lines):
            number = first_line + index
            if number <= resume:
                continue
            item = LineItem(number, names[position], payloads[position], now, file, block, index)
            if self._validate is not None and await self._invalid(item):
                continue
            self._batch.append(item)
            if len(self._batch) >= self.batch_size:
                self._move(file, number - 1, False)  # the line's other items may follow
                await self._launch()
        self._move(file, first_line + lines - 1, False)

    async def end_file(self, file: int, lines: int, complete: bool) -> None:
        """The file was read to its end (`complete`), or up to a read error after `lines`."""
        if self._resume[file] >= 0:
            self._move(file, lines, complete)

    def _move(self, file: int, line: int, done: bool) -> None:
        previous = self._moves.get(file, (0, False))
        self._moves[file] = (max(previous[0], line), done or previous[1])

    async def _launch(self) -> None:
        while self._pipeline and self._pipeline[0][0].done():
            await self._settle()
        if len(self._pipeline) >= self.in_flight:
            await self._settle()
        batch, self._batch = self._batch, []
        self.statements += len(batch)
        task = asyncio.create_task(self.sender.deliver(batch))
        self._pipeline.append((task, self._moves))
        self._moves = {}

    async def _settle(self) -> None:
        task, moves = self._pipeline[0]
        await task  # Refused, or CancelledError when stopping: the batch stays unsettled
        self._pipeline.popleft()
        for file, (line, done) in moves.items():
            line = max(line, self._handled[file])
            self._handled[file] = line
            ref = self.files[file]
            self.checkpoints.save(self.name, ref.name, ref.head, line, done)

    async def finish(self) -> None:
        """Send what is left and wait until everything settled."""
        if self._batch or self._moves:
            await self._launch()
        while self._pipeline:
            await self._settle()

    async def abandon(self) -> None:
        """Stopping: keep the progress of batches that settle, leave the rest for the next run."""
        try:
            while self._pipeline:
                await self._settle()
        except (asyncio.CancelledError, Refused):
            pass
        finally:
            for task, _ in self._pipeline:
                task.cancel()
            self._pipeline.clear()

    async def _invalid(self, item: LineItem) -> bool:
        """Whether `item` breaks its protocol's rules; if so it is a dead letter, not sent."""
        reasons = invalid(str(self._validate), item.payload)
        if not reasons:
            return False
        detail = f"invalid {self._validate} item, not sent: {'; '.join(reasons[:10])}"
        await self._dead_letter(item, Outcome(Verdict.REJECTED, None, detail))
        self.stats.dead_letters += 1
        return True

    async def _dead_letter(self, item: Item, outcome: Outcome) -> None:
        assert isinstance(item, LineItem)
        line = item.block.split(b"\n")[item.index]
        event: Any
        try:
            event = orjson.loads(line_json(line))
        except (NormaliseError, orjson.JSONDecodeError):
            event = None
        where = f"{self.files[item.file].name}:{item.seq}"
        await asyncio.to_thread(
            self.store.dead_letters.add,
            consumer=self.name,
            event_seq=0,  # not from the journal: the reason says where it came from
            event_name=item.name,
            event=event,
            item=orjson.loads(item.payload),
            status=outcome.status,
            answer=outcome.detail,
            reason=f"{outcome.verdict.value} (backfill of {where})",
        )


async def _refuse(outcome: Outcome) -> None:
    raise Refused(describe(outcome))
