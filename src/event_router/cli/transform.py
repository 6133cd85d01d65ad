"""`event-router transform`: tracking events in, xAPI or Caliper JSON lines out."""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from event_router.cli import app
from event_router.cli.options import HOME, LMS_URL, privacy_screen, settings, translation_options
from event_router.events import TrackingEvent
from event_router.plugins.chain import HookChain, hooked
from event_router.privacy.screen import Screen
from event_router.reading import Raw, parse_raw, read_raw
from event_router.routing.identity import Policy
from event_router.translate import Options, TranslationError, translate
from event_router.translate.caliper.common import Envelope
from event_router.translate.pool import WorkerPool


@app.command()
def transform(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[INPUT]...",
            help="Files of events: one JSON event, a JSON array, JSON lines or raw tracking-log "
            "lines; .gz too. '-' or nothing reads standard input.",
        ),
    ] = None,
    to: Annotated[str, typer.Option("--to", help="Output standard: xapi or caliper.")] = "xapi",
    lms_url: Annotated[str | None, LMS_URL] = None,
    home: Annotated[Path | None, HOME] = None,
    identities: Annotated[
        Path | None,
        typer.Option(help="CSV of anonymous ids: user_id,username,kind,anonymous_id[,email]."),
    ] = None,
    courses: Annotated[
        Path | None, typer.Option(help="CSV of course names: course_id,display_name.")
    ] = None,
    identity: Annotated[
        Policy, typer.Option(help="How learners appear: anonymous, username, mbox, mbox_sha1sum.")
    ] = Policy.ANONYMOUS,
    envelope_each: Annotated[
        bool, typer.Option("--envelope", help="Caliper: one envelope per input event.")
    ] = False,
    sensor_id: Annotated[
        str | None,
        typer.Option(help="Caliper envelope sensor IRI [default: <LMS URL>/event-router]."),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No per-event lines on stderr.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, help="Processes translating in parallel [default: CPUs, at most 4]; 1: none."
        ),
    ] = None,
    hook: Annotated[
        list[str] | None,
        typer.Option(
            help="Plugin hook to run around each translation, as for a consumer with it; "
            "repeatable, in order (see `event-router plugins list`)."
        ),
    ] = None,
) -> None:
    """Translate events to xAPI statements or Caliper events, one JSON line each, in input order.

    Each event that cannot be translated gets a line on stderr (`file:line name: reason`), then a
    summary. Exit status 0 when every input could be read, 2 when one could not.
    """
    if to not in ("xapi", "caliper"):
        raise typer.BadParameter("must be xapi or caliper", param_hint="--to")
    if envelope_each and to != "caliper":
        raise typer.BadParameter("--envelope applies to --to caliper", param_hint="--envelope")
    config = settings(home, lms_url)
    job = _Job(
        to,
        translation_options(config, identities, courses, identity),
        sensor_id or f"{config.lms_url}/event-router" if envelope_each else None,
        quiet,
        privacy_screen(config),
        tuple(hook or ()),
    )
    workers = workers if workers is not None else min(4, os.cpu_count() or 1)
    out = sys.stdout.buffer
    totals = _Totals()
    unreadable = 0
    chunks = _chunks(inputs or ["-"])
    results: Iterator[_Result | str]
    if workers > 1:
        pool = WorkerPool(workers, _init_worker, (job,), fork=True)
        results = pool.imap(_translate_chunk, chunks)
    else:
        _init_worker(job)
        results = map(_translate_chunk, chunks)
    try:
        for result in results:
            if isinstance(result, str):  # an input that could not be read
                unreadable += 1
                sys.stderr.write(result)
                continue
            out.write(result.output)
            if result.errors:
                sys.stderr.write(result.errors)
            totals.add(result)
    finally:
        if workers > 1:
            pool.close()
    out.flush()
    totals.report(unreadable, to)
    if unreadable:
        raise typer.Exit(2)


@dataclass(frozen=True, slots=True)
class _Job:
    protocol: str
    options: Options
    sensor: str | None  # set: one Caliper envelope per event
    quiet: bool
    screen: Screen  # as the running router's: dropped fields, forgotten learners
    hooks: tuple[str, ...] = ()  # plugin hooks, as a consumer's


@dataclass(slots=True)
class _Chunk:
    """Up to `_CHUNK` raw items of one input, or the reason that input could not be read."""

    items: list[Raw]


@dataclass(slots=True)
class _Result:
    output: bytes
    errors: str
    read: int
    translated: int
    written: int
    skipped: Counter[str]


@dataclass
class _Totals:
    read: int = 0
    translated: int = 0
    written: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def add(self, result: _Result) -> None:
        self.read += result.read
        self.translated += result.translated
        self.written += result.written
        self.skipped.update(result.skipped)

    def report(self, unreadable: int, to: str) -> None:
        noun = "statements" if to == "xapi" else "Caliper items"
        line = (
            f"transform: {self.read} events read, {self.translated} translated, "
            f"{self.written} {noun} written, {sum(self.skipped.values())} skipped"
        )
        if unreadable:
            line += f", {unreadable} input(s) unreadable"
        sys.stderr.write(line + "\n")
        for reason, number in self.skipped.most_common(10):
            sys.stderr.write(f"  {number:>8}  {reason}\n")


_CHUNK = 2000
_JOB: _Job | None = None
_CHAIN: HookChain | None = None


def _chunks(paths: list[str]) -> Iterator[_Chunk | str]:
    """Raw items in chunks, input by input, in order; a string for an unreadable input."""
    for path in paths:
        chunk: list[Raw] = []
        try:
            for raw in read_raw(path):
                chunk.append(raw)
                if len(chunk) >= _CHUNK:
                    yield _Chunk(chunk)
                    chunk = []
        except OSError as exc:
            if chunk:
                yield _Chunk(chunk)
            yield f"{path}: cannot read: {exc.strerror or exc}\n"
            continue
        if chunk:
            yield _Chunk(chunk)


def _init_worker(job: _Job) -> None:
    global _JOB
    _JOB = job


def _hooked(event: TrackingEvent, job: _Job) -> list[dict[str, Any]]:
    """`translate` with the job's hooks around it; a refusal or a drop raises with its reason."""
    global _CHAIN
    if _CHAIN is None:
        _CHAIN = HookChain(job.hooks, "transform", job.protocol)
    done = hooked(event, job.protocol, job.options, _CHAIN)
    if isinstance(done, str):
        raise TranslationError(done)
    return [orjson.loads(item) for item in done]


def _translate_chunk(chunk: _Chunk | str) -> _Result | str:
    """Parse and translate one chunk (in a worker process when there are several)."""
    if isinstance(chunk, str):
        return chunk
    job = _JOB
    assert job is not None
    envelope = Envelope(job.sensor) if job.sensor is not None else None
    lines: list[bytes] = []
    errors: list[str] = []
    skipped: Counter[str] = Counter()
    translated = 0
    for raw in chunk.items:
        item = parse_raw(raw)
        event = item.event
        if event is None:
            skipped["malformed"] += 1
            if not job.quiet:
                errors.append(f"{item.location} {item.error}\n")
            continue
        if job.screen:
            screened = job.screen.event(event)
            if screened is None:
                skipped["learner forgotten (retired list)"] += 1
                continue
            event = screened
        try:
            if job.hooks:
                results = _hooked(event, job)
            else:
                results = translate(event, job.protocol, job.options)
            written = [orjson.dumps(result) for result in results]
            if envelope is not None:
                written = [envelope.wrap(written)]
        except (TranslationError, orjson.JSONEncodeError) as exc:
            reason = getattr(exc, "reason", f"the translation cannot be written as JSON ({exc})")
            skipped[reason] += 1
            if not job.quiet:
                errors.append(f"{item.location} {event.name}: {reason}\n")
            continue
        translated += 1
        lines.extend(written)
    output = b"\n".join(lines) + b"\n" if lines else b""
    return _Result(output, "".join(errors), len(chunk.items), translated, len(lines), skipped)
