"""A router process keeps its history: the minute under way is written when it stops, and a
router started again within that minute adds to the same row."""

from __future__ import annotations

import time
from pathlib import Path

from event_router.store.history import ROUTER
from tests.peers.receiver import Receiver
from tests.peers.router import Router
from tests.support.traffic import play
from tests.support.wait import wait_until


def test_stopping_writes_the_minute_under_way(tmp_path: Path, receiver: Receiver) -> None:
    router = Router(tmp_path / "home")
    router.add_consumer(name="lrs", url=receiver.url + "/xapi/statements", linger=0.01)
    since = int(time.time()) // 60 * 60 - 60
    for batch in (range(5), range(5, 12)):
        with router:
            assert router.post([play(i) for i in batch]).status_code == 202
            delivered = len(batch)
            wait_until(
                lambda: router.status()["consumers"]["lrs"]["delivered"] >= delivered,  # noqa: B023
                message="delivered",
            )
    with router.store() as store:
        found = store.history.series(["lrs", ROUTER], since, int(time.time()) + 120)
    assert sum(p.delivered for p in found["lrs"]) == 12
    assert sum(p.ingested for p in found[ROUTER]) == 12
    assert all(p.samples == p.delivered for p in found["lrs"])
