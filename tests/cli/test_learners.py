"""`event-router learners forget`: what was removed, per store, and `status` shows the list."""

from __future__ import annotations

import json
from pathlib import Path

import orjson

from event_router.journal import SqliteJournal
from event_router.journal.entry import REDACTED
from tests.cli.conftest import Invoke
from tests.privacy.conftest import bus_event, log_line


def test_forget_from_the_command_line(cli: Invoke, home: Path) -> None:
    ids = home / "ids.csv"
    ids.write_text("user_id,username,kind,anonymous_id\n7,ann,xapi,a-1\n8,bob,xapi,b-1\n")
    cli("identities", "import", str(ids))
    journal = SqliteJournal(home / "journal.db")
    raws = [bus_event(7, "ann"), log_line(None, "ann"), bus_event(8, "bob")]
    journal.submit([orjson.dumps(raw) for raw in raws]).result()
    journal.close()
    result = cli("learners", "forget", "--user-id", "7", "--username", "ann", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "forgotten": True,
        "control_plane": {"identities": 1, "dead_letters": 0, "retired_keys": 2},
        "journal": {"kind": "sqlite", "events": 2, "action": "redacted in place"},
    }
    journal = SqliteJournal(home / "journal.db")
    entries, _ = journal.read(0, 10)
    journal.close()
    assert [entry.name == REDACTED for entry in entries] == [True, True, False]
    text = cli("learners", "forget", "--username", "ann").stdout
    assert "0 dead letter(s) removed, 0 key(s) added to the retired list" in text
    assert "journal (sqlite): 0 event(s) redacted in place" in text
    status = json.loads(cli("status", "--json").stdout)
    assert status["privacy"] == {"retired_learners": 2, "retired_events_dropped": 0}


def test_forget_without_a_learner_is_refused(cli: Invoke) -> None:
    result = cli("learners", "forget")
    assert result.exit_code == 2 and "user id, a username" in result.output
