"""A backfill's progress, written to `<home>/backfill/progress.json` for the admin UI to read.

A backfill is a CLI job, often in another terminal or a cron job, so the router cannot ask it how
far it got: the job writes its figures here every second and once more when it ends (replaced
atomically, 0600), and the UI's Backfill page shows them. A record still saying "running" whose
process is gone, or that has not moved for a minute, is shown as stopped: a killed job cannot say
so itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from event_router.home import open_private, private_dir

if TYPE_CHECKING:
    from event_router.backfill.runner import Runner

PROGRESS_FILE = "progress.json"
STALE_AFTER = 60.0  # seconds without an update: the job is no longer running


def progress_path(home: Path) -> Path:
    return home / "backfill" / PROGRESS_FILE


def snapshot(runner: Runner, state: str, started_at: float) -> dict[str, Any]:
    """The figures the UI shows (no secrets: consumer names, file names, counts)."""
    report = runner.report
    return {
        "state": state,
        "pid": os.getpid(),
        "started_at": started_at,
        "updated_at": time.time(),
        "dry_run": report.dry_run,
        "consumers": [t.name for t in report.targets],
        "files": len(report.files),
        "files_done": sum(1 for f in report.files if f.state in ("done", "already done")),
        "bytes_done": runner.bytes_done,
        "bytes_total": runner.bytes_total,
        "read": report.read,
        "delivered": runner.delivered,
        "errors": runner.errors,
        "retrying": runner.retrying,
    }


def write(home: Path, record: dict[str, Any]) -> None:
    path = progress_path(home)
    private_dir(path.parent)
    partial = path.with_suffix(".tmp")
    fd = open_private(partial, os.O_WRONLY | os.O_TRUNC)
    with os.fdopen(fd, "wb") as out:
        out.write(orjson.dumps(record))
    partial.replace(path)


def read(home: Path) -> dict[str, Any] | None:
    """The last record, its state corrected to `stopped` when its job is gone; None if no
    backfill ran in this home."""
    try:
        record: dict[str, Any] = orjson.loads(progress_path(home).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if record.get("state") == "running":
        stale = time.time() - float(record.get("updated_at", 0)) > STALE_AFTER
        if stale or not _alive(int(record.get("pid", 0))):
            record["state"] = "stopped"
    total = record.get("bytes_total") or 0
    record["percent"] = round(100 * record.get("bytes_done", 0) / total, 1) if total else None
    return record


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    return True


async def record_while(home: Path, runner: Runner, work: asyncio.Task[Any]) -> None:
    """Write the runner's figures every second until `work` ends, then its final state."""
    started = time.time()
    while not work.done():
        with contextlib.suppress(OSError):  # progress is a convenience; never fail the job
            write(home, snapshot(runner, "running", started))
        await asyncio.wait({work}, timeout=1.0)
    report = runner.report
    if work.cancelled() or work.exception() is not None:
        state = "failed"
    elif report.refused:
        state = "refused"
    elif report.interrupted:
        state = "interrupted"
    else:
        state = "done"
    with contextlib.suppress(OSError):
        write(home, snapshot(runner, state, started))
