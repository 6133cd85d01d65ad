"""The backfill pipeline: read blocks in file order → translate in a process pool → send.

Blocks go to the pool as soon as they are read and come back in order (a window of a few blocks
per worker keeps every core busy), so translation — the costly part, about 30 µs per event — runs
on all cores while this process reads, batches and sends. Nothing goes through the journal and no
consumer other than the chosen ones sees anything.
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left
from collections import Counter, deque
from collections.abc import AsyncGenerator
from concurrent.futures import Executor
from dataclasses import dataclass

from event_router.backfill.checkpoints import Checkpoints
from event_router.backfill.inputs import Input, InputError, Reader
from event_router.backfill.pacing import TokenBucket
from event_router.backfill.report import FileReport, Report, TargetReport
from event_router.backfill.target import FileRef, Refused, Target
from event_router.backfill.worker import Part, Translated, Translator, translate_block


@dataclass(frozen=True, slots=True)
class _Start:
    file: int
    ref: FileRef
    resume: dict[str, tuple[int, bool]]  # consumer → (lines handled, whole file)


@dataclass(frozen=True, slots=True)
class _Block:
    file: int
    first_line: int  # number of the block's first line in the file (from 1)
    data: bytes
    start: int  # index of the first line to translate (earlier ones were sent before)
    lines: int


@dataclass(frozen=True, slots=True)
class _End:
    file: int
    lines: int
    error: str | None


_Unit = _Start | _Block | _End


def part_between(part: Part, begin: int, end: int, *, first: bool) -> Part:
    """The payloads of `part` from the block's lines `begin` to `end` (excluded); the first
    piece of a block carries its counts of skipped and untranslatable events."""
    low, high = bisect_left(part.lines, begin), bisect_left(part.lines, end)
    lines = part.lines[low:high]
    return Part(
        lines=lines,
        names=part.names[low:high],
        payloads=part.payloads[low:high],
        events=len(set(lines)),
        skipped=part.skipped if first else Counter(),
        untranslatable=part.untranslatable if first else Counter(),
    )


def line_count(block: bytes) -> int:
    return block.count(b"\n") + (1 if block and not block.endswith(b"\n") else 0)


class Runner:
    """One backfill run over `inputs` into `targets`."""

    def __init__(
        self,
        inputs: list[Input],
        targets: list[Target],
        checkpoints: Checkpoints,
        *,
        pool: Executor | None,
        translator: Translator | None = None,
        workers: int = 1,
        bucket: TokenBucket | None = None,
    ) -> None:
        if pool is None and translator is None:
            raise ValueError("a backfill needs a process pool or an in-process translator")
        self.inputs = inputs
        self.targets = targets
        self.checkpoints = checkpoints
        self.pool = pool
        self.translator = translator
        self.bucket = bucket  # --rate: events are handed over no faster than this
        self.depth = 2 * max(1, workers) + 2  # blocks read ahead of sending
        self.report = Report(
            files=[FileReport(item.name) for item in inputs],
            targets=[TargetReport(t.name) for t in targets],
        )
        self.bytes_total = sum(item.size for item in inputs)
        self._bytes_done = 0
        self._reader: Reader | None = None
        self._started = time.monotonic()

    # -- progress, read by the progress display ---------------------------------------------------

    @property
    def bytes_done(self) -> int:
        reader = self._reader
        return self._bytes_done + (reader.position if reader is not None else 0)

    @property
    def delivered(self) -> int:
        return sum(t.stats.delivered for t in self.targets)

    @property
    def errors(self) -> int:
        report = self.report
        return (
            sum(report.malformed.values())
            + sum(sum(t.untranslatable.values()) + t.stats.dead_letters for t in self.targets)
            + len(report.failed_files)
        )

    @property
    def retrying(self) -> bool:
        return any(t.stats.state.value == "retrying" for t in self.targets)

    # -- the run ----------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> Report:
        self._started = time.monotonic()
        window: deque[tuple[_Unit, asyncio.Future[Translated] | None]] = deque()
        finished = False
        units = self._units(stop)
        try:
            async for unit in units:
                future = self._submit(unit) if isinstance(unit, _Block) else None
                window.append((unit, future))
                while window and (len(window) > self.depth or window[0][1] is None):
                    await self._dispatch(*window.popleft())
                    if stop.is_set():
                        break
                if stop.is_set():
                    break
            while window and not stop.is_set():
                await self._dispatch(*window.popleft())
            if not stop.is_set():
                for target in self.targets:
                    await target.finish()
                finished = True
        except Refused as exc:
            self.report.refused = str(exc)
            stop.set()
        finally:
            await units.aclose()
            for _, future in window:
                if future is not None:
                    future.cancel()
            if not finished:
                self.report.interrupted = self.report.refused is None
                for target in self.targets:
                    await target.abandon()
                for item in self.report.files:
                    if item.state in ("pending", "reading"):
                        item.state = "interrupted"
            self.checkpoints.flush()
            self._close_reader()
            self._summarise()
        return self.report

    def _submit(self, block: _Block) -> asyncio.Future[Translated]:
        loop = asyncio.get_running_loop()
        if self.pool is not None:
            return loop.run_in_executor(self.pool, translate_block, block.data, block.start)
        translator = self.translator
        assert translator is not None
        return asyncio.ensure_future(asyncio.to_thread(translator.block, block.data, block.start))

    async def _units(self, stop: asyncio.Event) -> AsyncGenerator[_Unit, None]:
        """Start, blocks and end of every input, in order; a file's read error ends that file."""
        for index, item in enumerate(self.inputs):
            if stop.is_set():
                return
            report = self.report.files[index]
            try:
                reader = await asyncio.to_thread(Reader, item)
            except InputError as exc:
                report.state, report.error = "failed", str(exc)
                self._bytes_done += item.size
                continue
            self._reader = reader
            line = 0
            try:
                try:
                    head = await asyncio.to_thread(reader.fingerprint)
                except InputError as exc:
                    report.state, report.error = "failed", str(exc)
                    continue
                resume = self._resume_points(item.name, head)
                if all(done for _, done in resume.values()):
                    report.state = "already done"
                    continue
                skip = min(handled for handled, done in resume.values() if not done)
                report.state = "reading"
                yield _Start(index, FileRef(item.name, head), resume)
                blocks = reader.blocks()
                while not stop.is_set():
                    block = await asyncio.to_thread(next, blocks, None)
                    if block is None:
                        break
                    count = line_count(block)
                    if line + count > skip:
                        yield _Block(index, line + 1, block, max(0, skip - line), count)
                    line += count
                else:
                    return
                yield _End(index, line, None)
            except InputError as exc:
                yield _End(index, line, str(exc))
            finally:
                self._close_reader()
                self._bytes_done += item.size

    def _resume_points(self, name: str, head: bytes) -> dict[str, tuple[int, bool]]:
        points = {}
        for target in self.targets:
            found = self.checkpoints.get(target.name, name, head)
            points[target.name] = (found.line, found.done) if found else (0, False)
        return points

    async def _dispatch(self, unit: _Unit, future: asyncio.Future[Translated] | None) -> None:
        if isinstance(unit, _Start):
            for target in self.targets:
                handled, done = unit.resume[target.name]
                target.begin_file(unit.file, unit.ref, handled, done)
        elif isinstance(unit, _Block):
            assert future is not None
            result = await future
            self._count(unit, result)
            if self.bucket is None:
                for target, part in zip(self.targets, result.parts, strict=True):
                    await target.add(unit.file, unit.first_line, unit.data, part, unit.lines)
                return
            step = self.bucket.burst
            for begin in range(unit.start, unit.lines, step):
                end = min(begin + step, unit.lines)
                await self.bucket.take(end - begin)
                for target, part in zip(self.targets, result.parts, strict=True):
                    piece = part_between(part, begin, end, first=begin == unit.start)
                    await target.add(unit.file, unit.first_line, unit.data, piece, end)
        else:
            report = self.report.files[unit.file]
            report.lines = unit.lines
            report.state = "done" if unit.error is None else "failed"
            report.error = unit.error
            for target in self.targets:
                await target.end_file(unit.file, unit.lines, unit.error is None)

    def _count(self, unit: _Block, result: Translated) -> None:
        report = self.report
        report.read += result.read
        report.outside += result.outside
        report.retired += result.retired
        report.malformed.update(result.malformed)
        name = self.inputs[unit.file].name
        for index, reason in result.examples:
            if len(report.examples) < 20:
                report.examples.append(f"{name}:{unit.first_line + index} {reason}")

    def _close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def _summarise(self) -> None:
        self.report.seconds = time.monotonic() - self._started
        for target, out in zip(self.targets, self.report.targets, strict=True):
            out.events, out.statements = target.events, target.statements
            out.delivered, out.dead_letters = target.stats.delivered, target.stats.dead_letters
            out.retries, out.last_error = target.stats.retries, target.stats.last_error
            out.skipped, out.untranslatable = target.skipped, target.untranslatable
