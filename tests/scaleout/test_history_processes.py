"""History in scale-out: two router processes on one Redis journal and PostgreSQL write rows of
their own, and reading sums them (each delivered its share) but not the intake both see whole."""

from __future__ import annotations

import time
from pathlib import Path

import sqlalchemy as sa

from event_router.store import Store
from event_router.store.history import ROUTER
from event_router.store.schema import history
from tests.peers.receiver import Receiver
from tests.scaleout.test_scaleout import member, play, routers
from tests.support.databases import JournalRedis


def test_each_process_writes_its_rows_and_reading_sums_them(
    tmp_path: Path, journal_redis: JournalRedis, control_plane: str, receiver: Receiver
) -> None:
    group = routers(tmp_path, journal_redis, control_plane, 2)
    group[0].add_consumer(name="lrs", url=receiver.url + "/xapi/statements", linger=0.01)
    since = int(time.time()) // 60 * 60 - 60
    try:
        for router in group:
            router.start()
        names = {member(r) for r in group}
        for i, start in enumerate(range(0, 400, 50)):
            answer = group[i % 2].post([play(n) for n in range(start, start + 50)])
            assert answer.status_code == 202, answer.text
        receiver.wait_for(400, timeout=120)
    finally:
        for router in group:
            if router.process is not None:
                router.stop()  # each writes the minute under way as it stops
    with Store.open(control_plane) as store:
        found = store.history.series(["lrs", ROUTER], since, int(time.time()) + 120)
        with store._db.read() as conn:
            writers = set(conn.execute(sa.select(history.c.process).distinct()).scalars())
    assert writers == names
    assert sum(p.delivered for p in found["lrs"]) == 400
    ingested = sum(p.ingested for p in found[ROUTER])
    if len(found[ROUTER]) == 1:  # one minute: both saw the same 400 arrive (not 800)
        assert ingested == 400
    else:  # across a minute's end the processes may split it differently: the larger each time
        assert 400 <= ingested < 800
