"""A backfill writes its progress where the admin UI reads it: running, then its end state."""

from __future__ import annotations

import os
import signal
import stat
from pathlib import Path

from event_router.backfill import progress
from tests.backfill.conftest import Home, write_log
from tests.peers.receiver import Receiver
from tests.support.wait import wait_until


def test_progress_is_written_while_running_and_at_the_end(
    tmp_path: Path,
    home: Home,
    receiver: Receiver,
) -> None:
    log = write_log(tmp_path / "tracking.log", 2000)
    # Slow enough that the job is still running when its once-a-second record is written, even
    # on a loaded machine (20 batches of 0.5 s); once seen, the receiver answers at once.
    receiver.delay = 0.5
    process = home.start_backfill(str(log), "-c", "lrs", "--batch-size", "100")
    try:
        wait_until(
            lambda: (p := progress.read(home.path)) and p["state"] == "running" and p["read"] > 0,
            message="a running record",
        )
        running = progress.read(home.path)
        assert running is not None and running["consumers"] == ["lrs"] and running["files"] == 1
        assert running["pid"] == process.pid and running["bytes_total"] == log.stat().st_size
        receiver.delay = 0
        process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    done = progress.read(home.path)
    assert done is not None and done["state"] == "done" and done["read"] == 2000
    assert done["percent"] == 100.0 and done["delivered"] > 0 and done["files_done"] == 1
    mode = stat.S_IMODE(progress.progress_path(home.path).stat().st_mode)
    assert mode == 0o600
    with home.store() as store:  # who re-sent history is in the audit log
        (entry,) = store.audit.list(action="backfill")[0]
    assert entry.via == "cli" and entry.target == "lrs" and entry.detail["files"] == 1


def test_a_killed_backfill_reads_as_stopped(
    tmp_path: Path,
    home: Home,
    receiver: Receiver,
) -> None:
    log = write_log(tmp_path / "tracking.log", 2000)
    receiver.delay = 0.2
    process = home.start_backfill(str(log), "-c", "lrs", "--batch-size", "50")
    wait_until(
        lambda: (p := progress.read(home.path)) and p["read"] > 0, message="a running record"
    )
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    record = progress.read(home.path)
    assert record is not None and record["state"] == "stopped"
