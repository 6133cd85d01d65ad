"""The router as a real process delivering to a real Ralph LRS (ralph-malph 5.1.0, fs backend).

test_end_to_end.py shows the delivery promises against the scriptable receiver; here the same
scenarios meet a real LRS: its validation, its answers to re-sent statements (204, or 200 with only
the new ids) and its storage. Each test uses learners of its own (random user ids), so the session's
shared Ralph holds other tests' statements too; each test reads back only its own learners'.

Ralph's fs backend appends each POSTed batch to one JSON-lines file and lists statements in that
file's order (GET /xAPI/statements ignores `ascending` there and pages with `more`), and stamps
`stored` on each statement when it is written: so the listed order *is* the stored order, and the
tests can assert it equals the journal order (one consumer, max_in_flight 1).
"""

from __future__ import annotations

import csv
import json
import random
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.peers.ralph import XAPI_HEADERS, Ralph
from tests.peers.router import Router
from tests.support.reference import statement_ids, transformed
from tests.support.traffic import journaled, play, write_log
from tests.support.wait import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]


def learner() -> int:
    """A user id no other test (or earlier run against the same Ralph) uses."""
    return random.SystemRandom().randrange(10**8, 10**9)


def ralph_consumer(router: Router, ralph: Ralph, **extra: Any) -> None:
    router.add_consumer(
        name="ralph",
        protocol="xapi",
        url=ralph.url,
        auth="basic",
        username=ralph.username,
        password=ralph.password,
        **{"batch_size": 100, "linger": 0.01, "max_in_flight": 1, **extra},
    )


def stored_ids_in_file(ralph: Ralph, wanted: set[str]) -> list[str]:
    """Ids of `wanted` statements in Ralph's data file, in stored order (cheap: for polling).

    Ralph may be appending while we read: a partial last line is left for the next poll."""
    if not ralph.data_file.exists():  # nothing stored yet since Ralph started
        return []
    out = []
    for line in ralph.data_file.read_bytes().splitlines():
        try:
            identifier = orjson.loads(line).get("id")
        except orjson.JSONDecodeError:
            continue
        if identifier in wanted:
            out.append(identifier)
    return out


def stored_via_api(ralph: Ralph, agent: dict[str, Any]) -> list[dict[str, Any]]:
    """Every statement Ralph holds for `agent`, through GET /xAPI/statements?agent=… and its
    `more` pages, in the order Ralph lists them (its stored order)."""
    out: list[dict[str, Any]] = []
    params: dict[str, Any] | None = {"agent": json.dumps(agent), "limit": 100}
    url: str | None = ralph.url
    with httpx.Client(
        auth=(ralph.username, ralph.password), headers=XAPI_HEADERS, timeout=30
    ) as client:
        while url:
            response = client.get(url, params=params)
            response.raise_for_status()
            page = response.json()
            out.extend(page["statements"])
            more = page.get("more")
            url, params = (f"{ralph.base}{more}" if more else None), None
    return out


def assert_stored_once_in_order(stored: list[dict[str, Any]], expected: list[str]) -> None:
    ids = [s["id"] for s in stored]
    assert len(set(expected)) == len(expected), "the reference has duplicate ids"
    missing, extra = set(expected) - set(ids), set(ids) - set(expected)
    assert not missing and not extra, f"{len(missing)} missing, {len(extra)} unexpected"
    twice = [i for i, n in Counter(ids).items() if n > 1]
    assert not twice, f"{len(twice)} stored more than once, e.g. {twice[:3]}"
    assert ids == expected, "Ralph's stored order is not the journal order"
    # The listing order is the order Ralph stored them in: its `stored` stamps agree.
    stamps = [s["stored"] for s in stored]
    assert stamps == sorted(stamps)


def actor_of(lines: list[bytes]) -> dict[str, Any]:
    (actor,) = {orjson.dumps(orjson.loads(line)["actor"]) for line in lines}
    return orjson.loads(actor)  # type: ignore[no-any-return]


def setup(tmp_path: Path, ralph: Ralph) -> tuple[Path, Router, list[Any], list[bytes]]:
    """A followed log, a router delivering to Ralph, 3,000 events of one fresh learner, and the
    lines `transform` prints for them (the reference)."""
    log = tmp_path / "tracking.log"
    router = Router(tmp_path / "home", tracking_logs=[log])
    ralph_consumer(router, ralph)
    user = learner()
    events = [play(i, user) for i in range(3000)]
    return log, router, events, transformed(router, events)


def test_tracking_log_to_ralph_every_statement_once_in_journal_order(
    tmp_path: Path, ralph: Ralph
) -> None:
    log, router, events, reference = setup(tmp_path, ralph)
    expected = statement_ids(reference)
    assert len(expected) == 3000
    with router:
        for start in range(0, 3000, 250):  # written as the LMS writes: a chunk at a time
            write_log(log, events[start : start + 250])
            wait_until(partial(journaled, router, start + 250))
        wanted = set(expected)
        wait_until(
            lambda: len(stored_ids_in_file(ralph, wanted)) >= 3000, 60, "3000 statements in Ralph"
        )
    # Stopped: nothing more can arrive. Ralph's own answer, through its API:
    assert_stored_once_in_order(stored_via_api(ralph, actor_of(reference)), expected)
    report = router.cli_status()
    state = report["consumers"]["ralph"]
    assert (state["delivered"], state["pending"], state["dead_letters"]) == (3000, 0, 0)


def test_kill_9_while_ralph_receives_then_restart_stores_each_statement_once(
    tmp_path: Path, ralph: Ralph
) -> None:
    log, router, events, reference = setup(tmp_path, ralph)
    expected = statement_ids(reference)
    wanted = set(expected)
    router.start()
    try:
        write_log(log, events[:2000])
        wait_until(lambda: len(stored_ids_in_file(ralph, wanted)) >= 300, 30, "first deliveries")
        router.kill()  # kill -9 while batches are going out
        at_kill = len(stored_ids_in_file(ralph, wanted))
        print(f"{at_kill} statements stored at the kill")
        assert at_kill < 2000, "the router had caught up: the kill was not mid-stream"
        write_log(log, events[2000:])  # the LMS goes on writing while the router is down
        router.start()
        wait_until(
            lambda: len(stored_ids_in_file(ralph, wanted)) >= 3000,
            60,
            "3000 statements in Ralph after the restart",
        )
    finally:
        if router.process is not None:
            router.stop()
    assert_stored_once_in_order(stored_via_api(ralph, actor_of(reference)), expected)
    state = router.cli_status()["consumers"]["ralph"]
    assert (state["pending"], state["dead_letters"]) == (0, 0)
    assert router.log.read_text().count("event router on http") == 2


def test_statement_ralph_refuses_is_dead_lettered_and_the_rest_stored(
    tmp_path: Path, ralph: Ralph
) -> None:
    """A per-event poison from real translations: the consumer identifies learners by email
    (identity policy mbox) and the LMS export has one learner with a malformed address. Ralph
    validates the actor's mbox and refuses the whole batch (422); the router splits it until
    that learner's statements are isolated and dead-lettered, and stores the rest in order."""
    good, bad = learner(), learner()
    good_mail = f"learner-{good}@example.com"
    table = tmp_path / "identities.csv"
    with table.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "username", "kind", "anonymous_id", "email"])
        writer.writerow([good, f"u{good}", "xapi", f"anon-{good}", good_mail])
        writer.writerow([bad, f"u{bad}", "xapi", f"anon-{bad}", "not an email"])
    router = Router(tmp_path / "home")
    ralph_consumer(router, ralph, identity="mbox", batch_size=50)
    with router.store() as store:
        store.identities.import_csv(table)
    events = [play(i, bad if i % 50 == 17 else good) for i in range(200)]
    reference = transformed(router, events, "--identity", "mbox")
    statements = [orjson.loads(line) for line in reference]
    poison = [s["id"] for s in statements if s["actor"]["mbox"] == "mailto:not an email"]
    expected = [s["id"] for s in statements if s["id"] not in poison]
    assert len(poison) == 4 and len(expected) == 196
    wanted = set(expected) | set(poison)
    with router:
        for start in range(0, 200, 50):
            assert router.post(events[start : start + 50]).status_code == 202
        wait_until(
            lambda: (
                len(stored_ids_in_file(ralph, wanted)) >= 196
                and router.status()["consumers"]["ralph"]["dead_letters"] == 4
            ),
            45,
            "196 statements stored and 4 dead letters",
        )
    assert not set(poison) & set(stored_ids_in_file(ralph, wanted)), "a refused one got stored"
    mine = {"objectType": "Agent", "mbox": f"mailto:{good_mail}"}
    assert_stored_once_in_order(stored_via_api(ralph, mine), expected)
    with router.store() as store:
        letters = store.dead_letters.list(consumer="ralph")
    assert sorted(letter.item["id"] for letter in letters) == sorted(poison)
    for letter in letters:
        assert letter.status == 422
        assert "not a valid email address" in (letter.answer or "")
        assert letter.event is not None and letter.event["context"]["user_id"] == bad
    state = router.cli_status()["consumers"]["ralph"]
    assert (state["pending"], state["dead_letters"], state["delivered"]) == (0, 4, 196)
