"""Every command that opens the journal says the same when it cannot: no journal in the home
(exit 1), or an EVENT_ROUTER_JOURNAL that cannot be reached (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Invoke

COMMANDS = (
    ("status",),
    ("consumers", "rewind", "lrs", "--since", "1h"),
    ("learners", "forget", "--user-id", "7"),
)


def test_no_journal_in_the_home(cli: Invoke, home: Path) -> None:
    cli("consumers", "add", "lrs", "--url", "http://127.0.0.1:9/x")
    for args in COMMANDS[:2]:
        result = cli(*args)
        assert result.exit_code == 1, (args, result.output)
        assert f"no journal in {home} (has the router run here?)" in result.stderr
    forgot = cli(*COMMANDS[2])  # nothing to redact yet: not an error
    assert forgot.exit_code == 0 and "journal: none in this home yet" in forgot.stdout


def test_an_unreachable_journal(cli: Invoke, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli("consumers", "add", "lrs", "--url", "http://127.0.0.1:9/x")
    monkeypatch.setenv("EVENT_ROUTER_JOURNAL", f"unix://{home / 'no-redis.sock'}")
    for args in COMMANDS:
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "EVENT_ROUTER_JOURNAL" in result.stderr and "not reachable" in result.stderr
