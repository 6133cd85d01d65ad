"""The one worker pool of every command: results in order, and no worker outlives its parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from functools import partial

from event_router.translate.pool import WorkerPool
from tests.support.wait import wait_until

_SCRIPT = """
import os, time
from event_router.translate.pool import WorkerPool

if __name__ == "__main__":
    pool = WorkerPool(2, os.getpid, fork={fork}, wait=True)
    print(" ".join(str(pid) for pid in pool.pids), flush=True)
    time.sleep(60)
"""


def _square(value: int) -> int:
    return value * value


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose (its parent, killed, never reaped it: init will).
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ", 1)[1][0] != "Z"


def test_imap_keeps_the_order_of_its_inputs() -> None:
    pool = WorkerPool(2, _noop)
    try:
        assert list(pool.imap(_square, iter(range(50)), ahead=1)) == [i * i for i in range(50)]
    finally:
        pool.close(wait=True)


def _all_gone(pids: list[int]) -> bool:
    return not any(_alive(pid) for pid in pids)


def _noop() -> None:
    pass


def test_workers_end_when_their_parent_is_killed() -> None:
    """Spawned (the router's translation workers) and forked (backfill, transform) alike."""
    for fork in (False, True):
        parent = subprocess.Popen(
            [sys.executable, "-c", _SCRIPT.format(fork=fork)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert parent.stdout is not None
            pids = [int(pid) for pid in parent.stdout.readline().split()]
            assert len(pids) == 2 and all(_alive(pid) for pid in pids)
        finally:
            parent.send_signal(signal.SIGKILL)
            parent.wait(10)
        wait_until(
            partial(_all_gone, pids),
            10,
            f"workers {pids} outlived their parent",
        )
