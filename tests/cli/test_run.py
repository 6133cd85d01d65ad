"""`event-router run` as a newcomer meets it: the start-up banner, and `--demo` delivering the
sample tracking log shipped with the package to a local consumer."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from event_router.demo import SAMPLE_EVENTS, SAMPLE_LOG
from tests.peers.router import Router
from tests.support.reference import file_ids
from tests.support.traffic import play
from tests.support.wait import wait_until

pytestmark = pytest.mark.timeout(120)


def banners(router: Router) -> list[str]:
    """The banner of each start, in order (the log is appended to across restarts)."""
    text = router.log.read_text()
    return [part.split("Stop with Ctrl-C.")[0] for part in text.split("Open edX Event Router")[1:]]


def test_demo_delivers_the_sample_log_to_a_local_consumer(tmp_path: Path) -> None:
    router = Router(tmp_path / "home", args=("--demo",))
    with router:
        wait_until(
            lambda: router.cli_status()["consumers"].get("demo", {}).get("delivered") == 50,
            message="the demo consumer to have the sample's 50 statements",
        )
    expected = sorted(file_ids(router, SAMPLE_LOG))
    archived = [
        json.loads(line)["id"]
        for path in sorted((router.home / "archives" / "demo" / "demo").rglob("*.jsonl.gz"))
        for line in gzip.decompress(path.read_bytes()).splitlines()
    ]
    assert len(expected) == 50 and sorted(archived) == expected  # every statement, once
    assert router.cli_status()["journal"]["head"] == SAMPLE_EVENTS
    (banner,) = banners(router)
    assert f"Demo              {SAMPLE_EVENTS} sample events to consumer 'demo'" in banner
    assert f"into {(router.home / 'archives' / 'demo').resolve()}" in banner


def test_a_fresh_home_says_where_things_are_and_what_to_do_first(tmp_path: Path) -> None:
    """No user, no consumer: the banner gives the exact commands (it creates nothing); the
    migrations of a fresh control plane do not flood the log."""
    router = Router(tmp_path / "home")
    with router:
        pass
    with router.store() as store:
        assert store.users.count() == 0 and store.consumers.list() == []  # nothing created
        store.users.add("ada", "a-long-password", "admin")
    with router:
        pass
    first, second = banners(router)
    assert f"Admin UI, API     {router.url}/" in first
    assert (
        f"First admin       none yet; create one: event-router users add admin --role admin"
        f" --home {router.home}\n" in first
    )
    assert f"POST {router.url}/api/v1/events takes events with the bearer token" in first
    assert "`event-router run --demo`" in first
    assert "First admin" not in second  # there is one now
    assert "alembic" not in router.log.read_text()


@pytest.mark.parametrize("opened", [False, True], ids=["default", "ingest-open"])
def test_without_a_token_ingest_is_refused_unless_the_operator_opens_it(
    tmp_path: Path, opened: bool
) -> None:
    """A real `run` without EVENT_ROUTER_INGEST_TOKEN: 401 by default (it was 202 before the
    fix); with `--ingest-open` events are taken, and the log and the banner say so loudly."""
    router = Router(tmp_path / "home", ingest_token=None, args=("--ingest-open",) if opened else ())
    with router:
        answer = router.post([play(1)])
        head = router.cli_status()["journal"]["head"]
    (banner,) = banners(router)
    if opened:
        assert (answer.status_code, head) == (202, 1), answer.text
        assert "events OPEN: anyone who can reach this port can add events" in banner
        assert "WARNING event_router: INGEST IS OPEN (--ingest-open)" in router.log.read_text()
    else:
        assert (answer.status_code, head) == (401, 0), answer.text
        assert "--ingest-open" in answer.json()["error"]
        assert "events refused: set EVENT_ROUTER_INGEST_TOKEN" in banner
