"""`backfill --dry-run` (count and translate, send nothing, write no checkpoint) and `--rate`
(a token bucket), with real files, a real receiver and the router as a subprocess."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from event_router.routing.presets import ERB_DEFAULT_XAPI
from tests.backfill.conftest import Home, write_log
from tests.peers.receiver import Receiver

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def home(tmp_path: Path, receiver: Receiver) -> Home:
    home = Home(tmp_path / "home")
    home.add_consumer(name="lrs", protocol="xapi", url=receiver.url + "/lrs/statements")
    home.add_consumer(
        name="erb",
        protocol="xapi",
        url=receiver.url + "/erb/statements",
        route={"allow": list(ERB_DEFAULT_XAPI)},
    )
    return home


def checkpoints(home: Home) -> list[tuple[str, int, int]]:
    path = home.path / "backfill" / "checkpoints.db"
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        return db.execute("SELECT consumer, line, done FROM checkpoints ORDER BY 1").fetchall()


def test_dry_run_reports_what_a_real_run_then_sends(
    tmp_path: Path, home: Home, receiver: Receiver
) -> None:
    log = write_log(tmp_path / "tracking.log.gz", 1200, seed=3)
    dry = home.backfill(str(log), "-c", "lrs", "-c", "erb", "--dry-run", "--workers", "0")
    assert dry.returncode == 0, dry.stderr
    assert receiver.requests == 0  # nothing sent anywhere
    assert checkpoints(home) == []  # nothing recorded: a real run starts from the top
    predicted = home.report()
    assert predicted["dry_run"] is True and predicted["read"] == 1200
    assert "would send" in dry.stderr and "nothing was sent" in dry.stderr
    expected = home.expected(log)
    lrs, erb = predicted["consumers"]["lrs"], predicted["consumers"]["erb"]
    assert lrs["statements"] == len(expected) and lrs["events"] > 0
    # what ERB's defaults leave out shows as "not in allow list" for the ERB-like consumer
    assert erb["skipped"]["not in allow list"] > 0
    assert erb["statements"] < lrs["statements"]

    real = home.backfill(str(log), "-c", "lrs", "-c", "erb", "--workers", "0")
    assert real.returncode == 0, real.stderr
    sent = home.report()["consumers"]
    for name in ("lrs", "erb"):
        assert sent[name]["delivered"] == predicted["consumers"][name]["statements"]
        assert sent[name]["events"] == predicted["consumers"][name]["events"]
        assert sent[name]["skipped"] == predicted["consumers"][name]["skipped"]
    assert receiver.count == lrs["statements"] + erb["statements"]
    assert set(receiver.ids) == set(expected)  # erb's statements are a subset of lrs's
    rows = checkpoints(home)
    assert [(name, done) for name, _, done in rows] == [("erb", 1), ("lrs", 1)]

    # a dry run after it reads the checkpoints (the files are done) and changes none of them
    again = home.backfill(str(log), "-c", "lrs", "--dry-run", "--workers", "0")
    assert again.returncode == 0, again.stderr
    assert home.report()["files"][0]["state"] == "already done"
    assert home.report()["consumers"]["lrs"]["statements"] == 0
    assert checkpoints(home) == rows
    # --restart in a dry run forgets them for this run only
    restart = home.backfill(str(log), "-c", "lrs", "--dry-run", "--restart", "--workers", "0")
    assert restart.returncode == 0, restart.stderr
    assert home.report()["consumers"]["lrs"]["statements"] == len(expected)
    assert checkpoints(home) == rows


def test_rate_limits_how_fast_events_reach_the_consumer(
    tmp_path: Path, home: Home, receiver: Receiver
) -> None:
    """300 events at 150/s take about two seconds (the first tenth of a second's worth is free);
    unlimited, they reach the receiver in a fraction of that."""
    log = write_log(tmp_path / "tracking.log", 300, seed=4)
    done = home.backfill(str(log), "-c", "lrs", "--rate", "150", "--batch-size", "10")
    assert done.returncode == 0, done.stderr
    report = home.report()
    assert report["rate_limit"] == 150
    assert report["consumers"]["lrs"]["delivered"] == len(home.expected(log))
    assert report["seconds"] >= 1.8
    assert report["events_per_second"] <= 150 * 1.05
    assert "limited to 150/s" in done.stderr
    arrivals = sorted(e.arrived for e in receiver.exchanges)
    assert arrivals[-1] - arrivals[0] >= 1.6  # spread over the run, not one burst
    # evenly: no second of the run carries much more than the rate
    first = arrivals[0]
    per_second: dict[int, int] = {}
    for exchange in receiver.exchanges:
        second = int(exchange.arrived - first)
        per_second[second] = per_second.get(second, 0) + 1
    assert max(per_second.values()) * 10 <= 150 * 1.3 + 10  # batches of 10 items


def test_a_rate_of_zero_is_refused(tmp_path: Path, home: Home) -> None:
    log = write_log(tmp_path / "tracking.log", 10)
    refused = home.backfill(str(log), "-c", "lrs", "--rate", "0")
    assert refused.returncode == 2
    assert "--rate" in refused.stderr
