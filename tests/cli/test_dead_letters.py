"""`event-router dead-letters …`."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from event_router.routing.consumer import Consumer
from event_router.store import State, Store
from tests.cli.conftest import Invoke


@pytest.fixture
def letters(open_store: Callable[[], Store]) -> list[int]:
    with open_store() as store:
        store.consumers.add(Consumer(name="lrs", url="https://lrs.test/xapi"))
        store.consumers.add(Consumer(name="other", url="https://lrs.test/other"))
        ids = [
            store.dead_letters.add(
                name,
                seq,
                "edx.video.played",
                {"name": "edx.video.played"},
                "rejected",
                item={"id": f"s{seq}"},
                status=400,
                answer="bad verb",
            )
            for seq, name in enumerate(("lrs", "lrs", "other"))
        ]
    return ids


def test_list_and_show(cli: Invoke, letters: list[int]) -> None:
    listed = cli("dead-letters", "list")
    assert listed.exit_code == 0 and "edx.video.played" in listed.stdout
    rows = json.loads(cli("dead-letters", "list", "--consumer", "lrs", "--json").stdout)
    assert [row["id"] for row in rows] == letters[1::-1]
    assert rows[0]["answer"] == "bad verb" and rows[0]["item"] == {"id": "s1"}
    assert json.loads(cli("dead-letters", "list", "--state", "replay", "--json").stdout) == []
    shown = json.loads(cli("dead-letters", "show", str(letters[0])).stdout)
    assert shown["status"] == 400 and shown["event"] == {"name": "edx.video.played"}


def test_replay_and_discard(
    cli: Invoke, letters: list[int], open_store: Callable[[], Store]
) -> None:
    replayed = cli("dead-letters", "replay", str(letters[0]))
    assert replayed.exit_code == 0 and "marked 1 dead letter(s)" in replayed.stdout
    assert cli("dead-letters", "replay", "--consumer", "other").stdout.startswith("marked 1")
    discarded = cli("dead-letters", "discard", "--consumer", "lrs", "--yes")
    assert discarded.exit_code == 0 and "discarded 2" in discarded.stdout
    with open_store() as store:
        states = [store.dead_letters.get(i).state for i in letters]
    assert states == [State.DISCARDED, State.DISCARDED, State.REPLAY]
    assert cli("dead-letters", "discard", str(letters[2]), input="n\n").exit_code == 1


def test_errors(cli: Invoke, letters: list[int]) -> None:
    for args in (("replay",), ("discard", "--yes")):
        result = cli("dead-letters", *args)
        assert result.exit_code == 2 and "give dead letter ids" in result.stderr
    unknown = cli("dead-letters", "show", "999")
    assert unknown.exit_code == 1 and "no dead letter with id 999" in unknown.stderr
    assert cli("dead-letters", "replay", "999").exit_code == 1
    nobody = cli("dead-letters", "list", "--consumer", "nope")
    assert nobody.exit_code == 1 and "no consumer named 'nope'" in nobody.stderr
    assert cli("dead-letters", "list", "--state", "lost").exit_code == 2


def test_ids_and_offsets_beyond_any_row_are_usage_errors(cli: Invoke, letters: list[int]) -> None:
    """2^63 reached the database and ended in an OverflowError traceback."""
    huge = str(2**63)
    for args in (
        ("show", huge),
        ("replay", huge),
        ("discard", "--yes", "1", huge),
        ("list", "--offset", huge),
        ("show", "0"),
    ):
        result = cli("dead-letters", *args)
        assert result.exit_code == 2, (args, result.output)
        assert "Invalid value" in result.stderr
