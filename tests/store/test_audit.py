"""The audit log: each change recorded once, by the store method that makes it, with its actor,
and never a secret."""

from __future__ import annotations

import json

import pytest

from event_router.routing.consumer import Consumer
from event_router.store import DuplicateUser, Store, acting_as


def _actions(store: Store) -> list[tuple[str, str, str, str]]:
    entries, _ = store.audit.list(limit=100)
    return [(e.actor, e.via, e.action, e.target) for e in reversed(entries)]


def test_every_change_is_recorded_with_who_made_it(store: Store) -> None:
    with acting_as("alice", "ui"):
        store.users.add("bob", "bob-password", "viewer")
        store.users.set_role("bob", "admin")
        store.users.set_password("bob", "another-password")
        token, secret = store.tokens.create("bob", "grafana", "viewer")
        store.tokens.revoke(token.id)
        store.sessions.end_all("bob")
    with acting_as("carol (shell)", "cli"):
        store.consumers.add(
            Consumer(
                name="lrs",
                protocol="xapi",
                url="https://lrs.test/x",
                auth="basic",
                username="u",
                password="pw-1",
            )
        )
        store.consumers.update("lrs", {"password": "pw-2", "batch_size": 5})
        store.consumers.set_enabled("lrs", False)
        store.dead_letters.mark_for_replay(consumer="lrs")
        store.consumers.remove("lrs")
        store.users.remove("bob")
    assert _actions(store) == [
        ("alice", "ui", "user.add", "bob"),
        ("alice", "ui", "user.role", "bob"),
        ("alice", "ui", "user.password", "bob"),
        ("alice", "ui", "token.create", f"token {token.id}"),
        ("alice", "ui", "token.revoke", f"token {token.id}"),
        ("alice", "ui", "user.revoke_sessions", "bob"),
        ("carol (shell)", "cli", "consumer.add", "lrs"),
        ("carol (shell)", "cli", "consumer.update", "lrs"),
        ("carol (shell)", "cli", "consumer.disable", "lrs"),
        ("carol (shell)", "cli", "dead_letters.replay", "lrs"),
        ("carol (shell)", "cli", "consumer.remove", "lrs"),
        ("carol (shell)", "cli", "user.remove", "bob"),
    ]
    entries, total = store.audit.list(action="consumer.update")
    assert total == 1 and entries[0].detail == {"fields": ["batch_size", "password"]}
    dumped = json.dumps([e.to_json() for e in store.audit.list(limit=100)[0]])
    for secret_value in ("pw-1", "pw-2", secret, "bob-password", "another-password"):
        assert secret_value not in dumped


def test_a_change_that_fails_is_not_recorded(store: Store) -> None:
    store.users.add("dora", "dora-password")
    with pytest.raises(DuplicateUser):
        store.users.add("DORA", "dora-password")
    _, total = store.audit.list(action="user.add")
    assert total == 1


def test_a_password_rehash_at_sign_in_is_not_an_operator_change(store: Store) -> None:
    store.users.add("erin", "erin-password")
    assert store.users.authenticate("erin", "erin-password") is not None
    assert [a for _, _, a, _ in _actions(store)] == ["user.add"]


def test_paging_and_filters(store: Store) -> None:
    for n in range(5):
        with acting_as(f"op{n % 2}", "api"):
            store.users.add(f"user{n}", "long-password")
    entries, total = store.audit.list(limit=2, offset=1)
    assert total == 5 and [e.target for e in entries] == ["user3", "user2"]
    assert store.audit.list(actor="op1")[1] == 2
    assert store.audit.list(target="user4")[0][0].actor == "op0"
