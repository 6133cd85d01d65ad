"""A changed secret key is refused unless accepted; `secret-key rotate` re-encrypts secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from event_router.routing.consumer import Consumer
from event_router.secret_key import SecretKeyMismatch, fingerprint
from event_router.settings import Settings
from event_router.store import Store
from tests.cli.conftest import Invoke


@pytest.fixture
def sqlite_only(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the key file and its record are the home's; the store kind does not matter")


def test_a_different_env_key_is_refused_then_accepted(
    cli: Invoke, home: Path, monkeypatch: pytest.MonkeyPatch, sqlite_only: None
) -> None:
    assert cli("consumers", "list").exit_code == 0  # first use: a key file is made and recorded
    monkeypatch.setenv("EVENT_ROUTER_SECRET_KEY", "a new key")
    with pytest.raises(SecretKeyMismatch, match="anonymous learner id"):
        cli("consumers", "list")  # `main` prints it as one line (the `run` test below)
    assert cli("secret-key", "accept").exit_code == 0
    assert (home / "secret_key.id").read_text().strip() == fingerprint("a new key")
    assert cli("consumers", "list").exit_code == 0


def test_run_refuses_a_changed_key_with_a_clear_error(tmp_path: Path) -> None:
    Settings(home=tmp_path, secret_key=None).resolved_secret()  # the home's own key, recorded
    env = {**os.environ, "EVENT_ROUTER_HOME": str(tmp_path), "EVENT_ROUTER_SECRET_KEY": "other"}
    env.pop("EVENT_ROUTER_DATABASE_URL", None)
    command = [sys.executable, "-m", "event_router", "run", "--listen", "127.0.0.1:1"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "statement ids" in done.stderr and "--accept-new-secret-key" in done.stderr
    assert "Traceback" not in done.stderr


def test_rotate_re_encrypts_and_replaces_the_key_file(cli: Invoke, home: Path) -> None:
    with Store.from_settings(Settings()) as store:
        store.consumers.add(
            Consumer(name="lrs", url="https://x.example/s", auth="bearer", token="tok-secret")
        )
    old = (home / "secret_key").read_text()
    done = cli("secret-key", "rotate", "--yes")
    assert done.exit_code == 0, done.output
    assert (home / "secret_key").read_text() != old
    assert not (home / "secret_key.new").exists()
    assert cli("consumers", "list").exit_code == 0  # the new key reads what was re-encrypted
    with Store.from_settings(Settings()) as store:
        assert store.consumers.get("lrs").token == "tok-secret"
        (entry,) = store.audit.list(action="secret_key")[0]  # logged, without any key
        assert entry.via == "cli" and entry.detail == {"rows": 1}


def test_a_home_used_with_an_env_key_makes_no_key_of_its_own(tmp_path: Path) -> None:
    Settings(home=tmp_path, secret_key="from the environment").resolved_secret()
    with pytest.raises(SecretKeyMismatch, match="set EVENT_ROUTER_SECRET_KEY"):
        Settings(home=tmp_path, secret_key=None).resolved_secret()
    assert not (tmp_path / "secret_key").exists()


def test_users_and_identities_need_no_key(
    cli: Invoke, home: Path, monkeypatch: pytest.MonkeyPatch, sqlite_only: None
) -> None:
    """They touch no consumer secret: a shell without the service's key can still add users."""
    Settings(home=home, secret_key="the service's key").resolved_secret()
    monkeypatch.delenv("EVENT_ROUTER_SECRET_KEY", raising=False)
    added = cli("users", "add", "admin", "--role", "admin", input="pw-long-enough-1\n" * 2)
    assert added.exit_code == 0, added.output
    assert not (home / "secret_key").exists()
