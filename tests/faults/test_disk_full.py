"""A full disk under the journal: ingest is refused with a clear error, nothing accepted is lost.

The router's home is put on a small tmpfs that the test fills with a ballast file (root can mount
one; CI runs as root). Where mounting is not allowed, the same condition is simulated by lowering
the router process's file-size limit (RLIMIT_FSIZE, through prlimit) so no file of it may grow:
SQLite then fails to extend the journal exactly as on a full disk.
"""

from __future__ import annotations

import errno
import os
import resource
import subprocess
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest

from event_router.generate import Layout
from tests.faults.conftest import assert_exact_delivery, log_lines
from tests.peers.receiver import Receiver
from tests.peers.router import Router
from tests.support.reference import file_ids
from tests.support.traffic import lrs_consumer, settled
from tests.support.wait import wait_until

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]


class SmallDisk:
    """A directory that can be made full and then given space again."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True)
        self.tmpfs = False
        if not os.environ.get("FAULTS_SIMULATE_FULL_DISK"):  # set it to test the simulation
            mounted = subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(path)],
                capture_output=True,
                check=False,
            )
            self.tmpfs = mounted.returncode == 0
        self._ballast = path / "ballast"
        self._pid: int | None = None

    def fill(self, router: Router) -> None:
        if self.tmpfs:
            with self._ballast.open("wb", buffering=0) as handle:  # unbuffered: close cannot fail
                block = b"\0" * 65536
                try:
                    while True:
                        handle.write(block)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
            return
        assert router.process is not None
        self._pid = router.process.pid
        largest = max(f.stat().st_size for f in self.path.rglob("*") if f.is_file())
        resource.prlimit(self._pid, resource.RLIMIT_FSIZE, (largest, resource.RLIM_INFINITY))

    def free(self) -> None:
        if self.tmpfs:
            self._ballast.unlink()
        elif self._pid is not None:
            limit = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
            resource.prlimit(self._pid, resource.RLIMIT_FSIZE, limit)

    def close(self) -> None:
        if self.tmpfs:
            subprocess.run(["umount", "-l", str(self.path)], check=False)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[SmallDisk]:
    small = SmallDisk(tmp_path / "disk")
    print(f"full disk by {'tmpfs' if small.tmpfs else 'RLIMIT_FSIZE (simulated)'}")
    try:
        yield small
    finally:
        small.close()


def test_full_journal_disk_refuses_ingest_and_loses_nothing(
    tmp_path: Path, disk: SmallDisk, receiver: Receiver, seed: int
) -> None:
    log = tmp_path / "tracking.log"  # the LMS's disk is not the router's
    log.touch()
    router = Router(disk.path / "home", tracking_logs=[log])
    router.log = tmp_path / "router.log"
    lrs_consumer(router, receiver, batch_size=200)
    events = log_lines(12_000, seed, Layout.EVENT_TRACKING)
    posted, written = events[:10_000], events[10_000:]
    batches = [posted[i : i + 200] for i in range(0, len(posted), 200)]
    accepted: list[list[bytes]] = []
    refused: list[list[bytes]] = []
    with router:
        router.token  # noqa: B018 - the admin token is stored before the disk fills
        for batch in batches[:5]:
            assert post(router, batch).status_code == 202
            accepted.append(batch)
        disk.fill(router)
        answer = None
        for batch in batches[5:]:
            answer = post(router, batch)
            assert answer.status_code in (202, 507), answer.text
            (accepted if answer.status_code == 202 else refused).append(batch)
            if len(refused) >= 10:
                break
        assert answer is not None and answer.status_code == 507, "the disk never filled up"
        body = answer.json()
        assert body["accepted"] == 0
        assert body["error"].startswith("journal cannot accept events:"), body
        assert "full" in body["error"] or "I/O" in body["error"], body
        scrape = httpx.get(f"{router.url}/metrics", timeout=5).text  # what the alert rule reads
        assert f"event_router_ingest_refused_total {float(len(refused))}" in scrape
        # The tracking log keeps what the journal cannot take yet: the source retries.
        with log.open("ab") as handle:
            handle.write(b"\n".join(written) + b"\n")
        wait_until(lambda: "journal refuses events" in router.log.read_text(), 60, "no retry")
        assert router.process is not None and router.process.poll() is None, "router died"
        assert httpx.get(f"{router.url}/health", timeout=5).status_code == 200
        disk.free()
        for batch in refused:  # the LMS sends again what was refused
            wait_until(partial(sent, router, batch), 30, "refused again", 0.5)
            accepted.append(batch)
        everything = tmp_path / "everything.jsonl"
        everything.write_bytes(b"\n".join([*(e for b in accepted for e in b), *written]) + b"\n")
        expected = file_ids(router, everything)
        wait_until(
            lambda: len(receiver.stored) >= len(set(expected)),
            120,
            lambda: f"{len(receiver.stored)} of {len(expected)}",
        )
        settled(router, {"lrs": None})  # nothing more on its way: a duplicate would show now
        receiver.drain()
    assert refused, "no batch was ever refused"
    assert_exact_delivery(receiver, expected)
    assert "journal refuses events" in router.log.read_text()  # the source waited, said why


def sent(router: Router, batch: list[bytes]) -> bool:
    """Post again: accepted now (202), or still refused while the disk is full (507)."""
    answer = post(router, batch)
    assert answer.status_code in (202, 507), answer.text
    return answer.status_code == 202


def post(router: Router, batch: list[bytes]) -> httpx.Response:
    body = b"\n".join(batch)
    return router.post(body, headers={"Content-Type": "application/x-ndjson"})
