"""`event-router backfill`: historic tracking logs into chosen consumers, resumably."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from event_router.cli import app
from event_router.cli.options import HOME, LMS_URL, settings

_TIME_FORMATS = [
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f%z",
]


@app.command()
def backfill(
    inputs: Annotated[
        list[str],
        typer.Argument(
            metavar="PATH_OR_GLOB...",
            help="Tracking logs, plain or .gz: files, directories, globs ('logs/*.gz', quoted), "
            "or fsspec URLs (s3://bucket/logs/*.gz). Read in the order given, globs sorted.",
        ),
    ],
    consumer: Annotated[
        list[str],
        typer.Option(
            "--consumer",
            "-c",
            help="Consumer to fill (repeatable); no other consumer gets anything.",
        ),
    ],
    since: Annotated[
        datetime | None,
        typer.Option(
            formats=_TIME_FORMATS,
            metavar="TIME",
            help="Only events at or after this time: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[.ffffff]"
            "[+HH:MM] (UTC unless an offset is given).",
        ),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(formats=_TIME_FORMATS, metavar="TIME", help="Only events before this time."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Translation processes [default: one per CPU]; 0 translates in this process.",
        ),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            min=1, max=10_000, help="Items per request [default: the consumer's, at least 1000]."
        ),
    ] = None,
    in_flight: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Requests in flight per consumer [default: the consumer's, at least 4].",
        ),
    ] = None,
    restart: Annotated[
        bool, typer.Option(help="Ignore earlier checkpoints of these files and send them again.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Read, translate and count, and report per consumer what would be sent: "
            "nothing is sent and no checkpoint is written.",
        ),
    ] = False,
    rate: Annotated[
        float | None,
        typer.Option(
            min=0.001,
            metavar="EVENTS_PER_S",
            help="Hand events to the consumers no faster than this (a token bucket) "
            "[default: no limit].",
        ),
    ] = None,
    progress: Annotated[
        bool | None,
        typer.Option(help="Show a progress bar [default: when stderr is a terminal]."),
    ] = None,
    report_json: Annotated[
        Path | None, typer.Option(help="Also write the final report to this file as JSON.")
    ] = None,
    home: Annotated[Path | None, HOME] = None,
    lms_url: Annotated[str | None, LMS_URL] = None,
) -> None:
    """Replay tracking logs into the named consumers, through the same translation and sinks.

    Resumable: per-file checkpoints in the home (backfill/checkpoints.db) record what reached each
    consumer, so re-running the same command after an interruption continues where it stopped;
    files already done are skipped. Safe to re-run: statement ids are deterministic, so anything
    sent twice is a duplicate the LRS ignores. Transient failures are retried until they succeed;
    items the consumer rejects become dead letters (`event-router dead-letters list`).

    Exit status: 0 done; 1 a consumer refused the credentials or configuration; 2 bad arguments
    or an input that could not be read (the others are still sent); 130 interrupted.
    """
    from event_router.backfill import Job, JobError, run_job  # the pool is only paid for here

    config = settings(home, lms_url)
    console = Console(stderr=True)
    job = Job(
        patterns=inputs,
        consumers=consumer,
        since=_utc(since),
        until=_utc(until),
        workers=workers,
        batch_size=batch_size,
        in_flight=in_flight,
        restart=restart,
        dry_run=dry_run,
        rate=rate,
    )
    show = sys.stderr.isatty() if progress is None else progress
    try:
        report = run_job(config, job, console, progress=show)
    except JobError as exc:
        console.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(exc.code) from None
    report.render(console)
    if report_json is not None:
        report_json.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
    if report.refused:
        raise typer.Exit(1)
    if report.interrupted:
        raise typer.Exit(130)
    if report.failed_files:
        raise typer.Exit(2)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
