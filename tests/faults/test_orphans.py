"""A router killed -9 leaves no process behind: its translation workers and multiprocessing's
resource tracker end with it (they used to live on for good)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.peers.router import Router
from tests.support.wait import wait_until

pytestmark = [pytest.mark.faults, pytest.mark.timeout(120)]


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of a live process, None once it is gone or a zombie."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) "
    if fields[0] in ("Z", "X"):
        return None
    return fields[0], int(fields[1]), int(fields[19])


def _children(parent: int) -> dict[int, int]:
    """Every live child of `parent`: pid to start time (so a reused pid is not mistaken)."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None and stat[1] == parent:
            found[int(entry)] = stat[2]
    return found


def _alive(processes: dict[int, int]) -> list[int]:
    return [pid for pid, start in processes.items() if (s := _stat(pid)) and s[2] == start]


def test_translation_workers_and_resource_tracker_end_with_a_killed_router(
    tmp_path: Path,
) -> None:
    router = Router(tmp_path / "home", EVENT_ROUTER_TRANSLATION_WORKERS="2")
    router.start()
    try:
        assert router.process is not None
        pid = router.process.pid
        # two workers and the resource tracker, once the pool has started
        wait_until(lambda: len(_children(pid)) >= 3, 30, lambda: f"children {_children(pid)}")
        children = _children(pid)
    finally:
        router.kill()
    wait_until(
        lambda: not _alive(children),
        20,
        lambda: f"still alive after the router was killed: {_alive(children)}",
    )
