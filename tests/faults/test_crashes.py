"""100,000 events through a router that is killed five times, whose LRS goes away for a while and
then answers 500s and times out: afterwards the LRS holds exactly the expected statements.

The stream is written to a followed tracking log in chunks, as an LMS would write it. The five
`kill -9`s land at random moments (a fresh seed each run, printed as FAULTS_SEED to replay it),
while the router is reading, translating and sending, and the router is restarted at once.
"""

from __future__ import annotations

import json
import random
import subprocess
import time
from pathlib import Path

import pytest

from tests.faults.conftest import assert_exact_delivery, log_lines
from tests.peers.receiver import Receiver
from tests.peers.router import Router
from tests.support.reference import command
from tests.support.traffic import lrs_consumer, settled
from tests.support.wait import wait_until

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]

EVENTS = 100_000
CHUNKS = 40


def test_100k_events_five_kills_an_outage_and_failing_answers(
    tmp_path: Path, receiver: Receiver, seed: int
) -> None:
    rng = random.Random(seed)
    log = tmp_path / "tracking.log"
    log.touch()
    router = Router(tmp_path / "home", tracking_logs=[log])
    lrs_consumer(router, receiver, batch_size=200, max_in_flight=2, timeout=1.0)
    lines = log_lines(EVENTS, seed)
    source = tmp_path / "all.log"
    source.write_bytes(b"\n".join(lines) + b"\n")
    # The reference, computed meanwhile: the same events, the same home and key.
    reference = subprocess.Popen(
        command(source),
        stdout=subprocess.PIPE,
        env=router.env,
    )
    size = EVENTS // CHUNKS
    chunks = [lines[i : i + size] for i in range(0, EVENTS, size)]
    kills = sorted(rng.sample(range(1, CHUNKS - 2), 5))
    outage = rng.randrange(3, 12)  # the LRS is down from this chunk for four chunks
    failing = rng.randrange(18, 30)  # then time-outs, then 500s, from this chunk
    schedule = f"seed {seed}: kills after chunks {kills}, outage {outage}, failing {failing}"

    router.start()
    try:
        for index, chunk in enumerate(chunks):
            if index == failing:  # scripted before the chunk is written, so it meets fresh work
                receiver.delay = 1.5  # longer than the consumer's 1 s timeout
            with log.open("ab") as handle:
                handle.write(b"\n".join(chunk) + b"\n")
            if index == outage:
                receiver.down()
            elif index == outage + 4:
                receiver.up()
            elif index == failing + 2:
                # A slow answer that stored the batch after the router gave up on it is what
                # makes a re-send; wait for one rather than hope the timing produced it.
                wait_until(
                    lambda: any(e.delayed and e.status == 200 for e in receiver.exchanges),
                    timeout=120,
                    message=lambda: f"no slow answer stored anything; {schedule}",
                )
                receiver.delay = 0
                receiver.fail_next(25, 500)
            if index in kills:
                time.sleep(rng.uniform(0.05, 1.5))  # somewhere in the middle of the work
                router.kill()
                router.start()
            time.sleep(0.25)  # the log grows as an LMS writes it: faults meet work in flight
        output = reference.communicate(timeout=300)[0]
        expected = [json.loads(line)["id"] for line in output.splitlines()]
        wait_until(
            lambda: len(receiver.stored) >= len(set(expected)),
            timeout=300,
            message=lambda: f"{len(receiver.stored)} of {len(expected)} stored; {schedule}",
        )
        # All settled and nothing on its way: anything more would be a re-send, not something new
        settled(router, {"lrs": None}, timeout=300)
        receiver.drain()
    finally:
        if router.process is not None:
            router.stop()
        reference.kill()
    assert reference.returncode == 0
    assert_exact_delivery(receiver, expected)
    assert len(expected) > EVENTS  # some events fan out into several statements
    # The faults did happen: six starts, 500s answered, time-outs re-sent what was stored.
    assert router.log.read_text().count("event router on http") == 6, schedule
    assert sum(1 for e in receiver.exchanges if e.status == 500) == 25, schedule
    assert receiver.duplicates, schedule
