from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from event_router.cli import _register, app
from event_router.settings import Settings
from event_router.store import Store

Invoke = Callable[..., Result]


@pytest.fixture
def home(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tmp home whose store is SQLite in it, or (PostgreSQL case) the test's database."""
    monkeypatch.setenv("EVENT_ROUTER_HOME", str(tmp_path))
    if database_url.startswith("sqlite"):
        monkeypatch.delenv("EVENT_ROUTER_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("EVENT_ROUTER_DATABASE_URL", database_url)
    return tmp_path


@pytest.fixture
def store_url(home: Path, database_url: str) -> str:
    return database_url


@pytest.fixture
def cli(home: Path) -> Invoke:
    _register()
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        result = runner.invoke(app, list(args), input=input)
        assert "Traceback" not in result.output, result.output
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    return invoke


@pytest.fixture
def open_store(store_url: str) -> Callable[[], Store]:
    return lambda: Store.from_settings(Settings())  # the home's key, as the commands use it
