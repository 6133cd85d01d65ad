"""`event-router users …` and `event-router tokens …` against a tmp home and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable

from event_router.store import Store
from tests.cli.conftest import Invoke


def test_users_add_list_set_password_set_role_remove(
    cli: Invoke, open_store: Callable[[], Store]
) -> None:
    twice = "alice-password\nalice-password\n"
    added = cli("users", "add", "alice", "--role", "admin", input=twice)
    assert added.exit_code == 0, added.output
    assert "added admin alice" in added.stdout and "alice-password" not in added.output
    piped = cli("users", "add", "bob", "--password-stdin", input="bob-password\n")
    assert piped.exit_code == 0 and "added viewer bob" in piped.stdout
    listed = json.loads(cli("users", "list", "--json").stdout)
    assert [(u["username"], u["role"]) for u in listed] == [("alice", "admin"), ("bob", "viewer")]
    assert "alice" in cli("users", "list").stdout
    with open_store() as store:
        assert store.users.authenticate("bob", "bob-password") is not None
    changed = cli("users", "set-password", "bob", "--password-stdin", input="new-password\n")
    assert changed.exit_code == 0 and "password of bob changed" in changed.stdout
    assert cli("users", "set-role", "bob", "admin").exit_code == 0
    with open_store() as store:
        assert store.users.authenticate("bob", "new-password") is not None
        assert store.users.get("bob").role.value == "admin"
    assert cli("users", "remove", "bob", input="n\n").exit_code == 1  # asked, declined
    removed = cli("users", "remove", "bob", "--yes")
    assert removed.exit_code == 0 and "removed user bob" in removed.stdout
    with open_store() as store:
        assert [u.username for u in store.users.list()] == ["alice"]


def test_users_errors_are_clear(cli: Invoke) -> None:
    mismatch = cli("users", "add", "a", input="first-password\nsecond-password\n" * 1)
    assert mismatch.exit_code != 0
    short = cli("users", "add", "alice", "--password-stdin", input="short\n")
    assert short.exit_code == 2 and "at least 8 characters" in short.output
    empty = cli("users", "add", "alice", "--password-stdin", input="")
    assert empty.exit_code == 2 and "no password on standard input" in empty.output
    bad_name = cli("users", "add", "a b", "--password-stdin", input="long-enough\n")
    assert bad_name.exit_code == 2 and "username" in bad_name.output
    bad_role = cli("users", "add", "alice", "--role", "root", "--password-stdin", input="x\n")
    assert bad_role.exit_code == 2
    cli("users", "add", "alice", "--password-stdin", input="long-enough\n")
    duplicate = cli("users", "add", "alice", "--password-stdin", input="long-enough\n")
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    for args in (("remove", "nobody", "--yes"), ("set-role", "nobody", "admin")):
        missing = cli("users", *args)
        assert missing.exit_code == 1 and "no user named 'nobody'" in missing.output
    missing = cli("users", "set-password", "nobody", "--password-stdin", input="long-enough\n")
    assert missing.exit_code == 1 and "no user named 'nobody'" in missing.output
    assert "no users" not in cli("users", "list").output


def test_tokens_create_list_revoke(cli: Invoke, open_store: Callable[[], Store]) -> None:
    cli("users", "add", "alice", "--role", "admin", "--password-stdin", input="long-enough\n")
    assert "no API tokens" in cli("tokens", "list").output
    created = cli("tokens", "create", "--user", "alice", "--name", "ci", "--role", "viewer")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("ert_") and "not shown again" in created.stderr
    with open_store() as store:
        found = store.tokens.authenticate(token)
    assert found is not None and found[1].value == "viewer"
    listed = json.loads(cli("tokens", "list", "--json").stdout)
    assert listed[0]["name"] == "ci" and listed[0]["prefix"] == token[:10]
    assert token not in cli("tokens", "list").output
    revoked = cli("tokens", "revoke", str(listed[0]["id"]))
    assert revoked.exit_code == 0 and f"revoked token {listed[0]['id']}" in revoked.stdout
    with open_store() as store:
        assert store.tokens.authenticate(token) is None
    too_big = cli("tokens", "revoke", "99999999999999999999")
    assert too_big.exit_code == 2 and "Traceback" not in too_big.output
    again = cli("tokens", "revoke", str(listed[0]["id"]))
    assert again.exit_code == 1 and "no API token" in again.output
    nobody = cli("tokens", "create", "--user", "nobody", "--name", "ci")
    assert nobody.exit_code == 1 and "no user named" in nobody.output


def test_users_sessions_lists_and_revoke_sessions_ends_them(
    cli: Invoke, open_store: Callable[[], Store]
) -> None:
    cli("users", "add", "alice", "--role", "admin", "--password-stdin", input="alice-password\n")
    cli("users", "add", "bob", "--password-stdin", input="bob-password\n")
    assert "no open sessions" in cli("users", "sessions").output
    with open_store() as store:
        alice, bob = store.users.get("alice"), store.users.get("bob")
        tokens = [store.sessions.start(alice, "10.0.0.7"), store.sessions.start(alice, "10.0.0.8")]
        other = store.sessions.start(bob, "192.0.2.4")
    listed = json.loads(cli("users", "sessions", "--json").stdout)
    assert [(s["user"], s["client"]) for s in listed] == [
        ("alice", "10.0.0.7"),
        ("alice", "10.0.0.8"),
        ("bob", "192.0.2.4"),
    ]
    assert set(listed[0]) == {"id", "user", "created_at", "last_seen_at", "client"}
    table = cli("users", "sessions", "alice").stdout
    assert "10.0.0.8" in table and "192.0.2.4" not in table
    assert not any(token in table or token in str(listed) for token in [*tokens, other])
    revoked = cli("users", "revoke-sessions", "ALICE")
    assert revoked.exit_code == 0 and "ended 2 session(s) of ALICE" in revoked.stdout
    with open_store() as store:
        assert [store.sessions.resume(t) for t in tokens] == [None, None]
        assert store.sessions.resume(other) is not None
    for args in (("sessions", "nobody"), ("revoke-sessions", "nobody")):
        missing = cli("users", *args)
        assert missing.exit_code == 1 and "no user named 'nobody'" in missing.output
