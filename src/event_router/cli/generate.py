"""`event-router generate`: realistic synthetic tracking-log lines for load tests and benchmarks."""

from __future__ import annotations

import csv
import gzip
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Annotated, cast

import typer

from event_router.cli import app
from event_router.cli.options import LMS_URL
from event_router.generate import DEFAULT_START, EventStream, Layout, World
from event_router.settings import Settings


@app.command()
def generate(
    count: Annotated[int, typer.Option("--count", "-n", min=0, help="How many events.")] = 1000,
    users: Annotated[int, typer.Option(min=1, help="Distinct learners.")] = 1000,
    courses: Annotated[int, typer.Option(min=1, help="Distinct courses.")] = 20,
    seed: Annotated[int, typer.Option(help="Same seed and options, same events.")] = 0,
    rate: Annotated[
        float | None,
        typer.Option(
            min=0.001,
            help="Write at this many events per second (for load tests), with timestamps from "
            "now; else as fast as possible.",
        ),
    ] = None,
    layout: Annotated[
        Layout,
        typer.Option(
            help="tracking-log (the LMS's tracking.log lines), event-tracking (name/timestamp/"
            "data/context JSON, as the event bus carries) or mixed.",
        ),
    ] = Layout.TRACKING_LOG,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (.gz is gzipped) [default: stdout]."),
    ] = None,
    append: Annotated[bool, typer.Option(help="Append to the output file.")] = False,
    start: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"],
            metavar="TIME",
            help="Time of the first event (UTC unless an offset is given) [default: "
            "2024-03-01, or now with --rate].",
        ),
    ] = None,
    unsupported: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Share of real events the router does not translate (page_close, ...).",
        ),
    ] = 0.0,
    courses_csv: Annotated[
        Path | None,
        typer.Option(
            help="Also write the courses as CSV course_id,display_name "
            "(for `event-router courses import`).",
        ),
    ] = None,
    lms_url: Annotated[str | None, LMS_URL] = None,
) -> None:
    """Write synthetic Open edX tracking events, one per line.

    Every event family the router translates appears (enrollment, video, problems, grades,
    completion, navigation, forums, special exams), with learners, courses, blocks, sessions and
    strictly increasing timestamps that agree with one another. Deterministic for a seed.
    """
    root = lms_url or Settings().lms_url
    world = World(users, courses, seed)
    first = start or (datetime.now(UTC) if rate else DEFAULT_START)
    if first.tzinfo is None:
        first = first.replace(tzinfo=UTC)
    stream = EventStream(
        world,
        count,
        seed=seed,
        layout=layout,
        start=first,
        lms_url=root,
        mean_gap=1 / rate if rate else 0.1,
        unsupported=unsupported,
    )
    if courses_csv is not None:
        with courses_csv.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["course_id", "display_name"])
            writer.writerows(world.course_names())
    out = _open(output, append)
    try:
        if rate:
            _paced(stream, out, rate)
        else:
            _fast(stream, out)
    except BrokenPipeError:
        sys.stderr.close()  # `| head`: the reader left; say nothing more
        raise typer.Exit(0) from None
    finally:
        if out is not sys.stdout.buffer:
            out.close()


def _open(output: Path | None, append: bool) -> IO[bytes]:
    if output is None:
        return sys.stdout.buffer
    mode = "ab" if append else "wb"
    if output.suffix == ".gz":
        return cast(IO[bytes], gzip.GzipFile(output, mode, compresslevel=6))
    return output.open(mode)


def _fast(stream: EventStream, out: IO[bytes]) -> None:
    buffer: list[bytes] = []
    for event in stream:
        buffer.append(event.line())
        if len(buffer) >= 2048:
            out.write(b"\n".join(buffer) + b"\n")
            buffer.clear()
    if buffer:
        out.write(b"\n".join(buffer) + b"\n")
    out.flush()


def _paced(stream: EventStream, out: IO[bytes], rate: float) -> None:
    """Write each event when its turn comes at `rate` per second, flushing every 10 ms or so."""
    started = time.monotonic()
    buffer: list[bytes] = []
    for index, event in enumerate(stream):
        delay = started + index / rate - time.monotonic()
        if delay > 0.01:  # ahead of time: hand over what is due, then wait for this one's turn
            if buffer:
                out.write(b"\n".join(buffer) + b"\n")
                out.flush()
                buffer.clear()
            time.sleep(delay)
        buffer.append(event.line())
        if len(buffer) >= 4096:
            out.write(b"\n".join(buffer) + b"\n")
            out.flush()
            buffer.clear()
    if buffer:
        out.write(b"\n".join(buffer) + b"\n")
    out.flush()
