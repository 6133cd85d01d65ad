"""Every setting's environment variable is named in `event-router run --help` and in the
configuration docs, so a newcomer finds each one (EVENT_ROUTER_LISTEN and ten others were
missing from the help)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from event_router.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def variables() -> list[str]:
    """Each setting's variable as pydantic-settings reads it: its alias, else prefix + name."""
    found = []
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        found.append(alias if isinstance(alias, str) else f"EVENT_ROUTER_{name.upper()}")
    return found


@pytest.fixture(scope="module")
def run_help() -> str:
    done = subprocess.run(
        [sys.executable, "-m", "event_router", "run", "--help"],
        capture_output=True,
        check=True,
        text=True,
    )
    return done.stdout


@pytest.mark.parametrize("variable", variables())
def test_every_setting_is_named_in_run_help_and_the_docs(run_help: str, variable: str) -> None:
    assert variable in run_help.split()
    assert variable in DOCS.read_text()


def test_the_variables_are_the_ones_settings_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """The names above are real: setting one changes the setting (a check on the test)."""
    monkeypatch.setenv("EVENT_ROUTER_LISTEN", "0.0.0.0:9")
    monkeypatch.setenv("EVENT_ROUTER_JOURNAL", "redis://127.0.0.1:9/0")
    config = Settings()
    assert (config.listen, config.journal_url) == ("0.0.0.0:9", "redis://127.0.0.1:9/0")
    assert {"EVENT_ROUTER_LISTEN", "EVENT_ROUTER_JOURNAL"} <= set(variables())
