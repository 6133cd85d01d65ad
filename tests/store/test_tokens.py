"""API tokens in the store (SQLite and PostgreSQL): stored hashed, never above their user's role,
gone with their user; a token bound to a stream consumer is good for that stream only."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from event_router.routing.consumer import Consumer
from event_router.store import InvalidUser, Role, Store, UnknownToken, UnknownUser
from event_router.store.tokens import api_tokens


def test_tokens_are_stored_hashed_act_for_their_user_and_can_be_revoked(store: Store) -> None:
    store.users.add("alice", "alice-password", "admin")
    record, token = store.tokens.create("alice", "ci")
    assert token.startswith("ert_") and len(token) > 40 and record.prefix == token[:10]
    assert record.role is Role.ADMIN
    with store._db.read() as conn:
        row = conn.execute(sa.select(api_tokens)).one()
    assert token not in str(tuple(row))
    found = store.tokens.authenticate(token)
    assert found is not None and found[0].username == "alice" and found[1] is Role.ADMIN
    assert store.tokens.authenticate(token + "x") is None
    assert store.tokens.authenticate("not-even-prefixed") is None
    assert store.tokens.list("alice")[0].last_used_at is not None
    store.tokens.revoke(record.id)
    assert store.tokens.authenticate(token) is None
    with pytest.raises(UnknownToken):
        store.tokens.revoke(record.id)


def test_token_roles_never_exceed_the_user(store: Store) -> None:
    store.users.add("vic", "vic-password", "viewer")
    with pytest.raises(InvalidUser, match="cannot have more rights"):
        store.tokens.create("vic", "sneaky", "admin")
    store.users.add("alice", "alice-password", "admin")
    _, token = store.tokens.create("alice", "dash", "viewer")
    assert store.tokens.authenticate(token)[1] is Role.VIEWER  # type: ignore[index]
    _, full = store.tokens.create("alice", "ci")
    store.users.set_role("alice", "viewer")  # a demoted user's tokens are demoted too
    assert store.tokens.authenticate(full)[1] is Role.VIEWER  # type: ignore[index]
    with pytest.raises(InvalidUser, match="token name"):
        store.tokens.create("alice", "  ")
    with pytest.raises(UnknownUser):
        store.tokens.create("nobody", "ci")


def test_removing_a_user_removes_their_tokens(store: Store) -> None:
    store.users.add("alice", "alice-password", "admin")
    store.users.add("bob", "bob-password", "admin")
    _, token = store.tokens.create("alice", "ci")
    store.tokens.create("bob", "ci")
    store.users.remove("alice")
    assert store.tokens.authenticate(token) is None
    assert [t.username for t in store.tokens.list()] == ["bob"]


def test_a_bound_token_reads_its_stream_and_nothing_else(store: Store) -> None:
    store.users.add("alice", "alice-password", "admin")
    store.consumers.add(Consumer(name="adaptive", url="stream:", sink="stream"))
    store.consumers.add(Consumer(name="lrs", url="http://lrs.test/xapi"))
    record, token = store.tokens.create("alice", "engine", consumer="adaptive")
    assert record.consumer == "adaptive" and record.to_json()["consumer"] == "adaptive"
    assert store.tokens.authenticate(token) is None  # not an API token for alice
    found = store.tokens.authenticate_stream(token)
    assert (
        found is not None
        and found[0].username == "alice"
        and found[1:]
        == (
            "engine",
            "adaptive",
        )
    )
    _, plain = store.tokens.create("alice", "ci")
    assert store.tokens.authenticate_stream(plain) is None and store.tokens.authenticate(plain)
    with pytest.raises(InvalidUser, match="not a stream consumer"):
        store.tokens.create("alice", "engine", consumer="lrs")
    with pytest.raises(InvalidUser, match="no consumer named"):
        store.tokens.create("alice", "engine", consumer="nobody")
    with pytest.raises(InvalidUser, match="no role"):
        store.tokens.create("alice", "engine", "admin", consumer="adaptive")
    assert [t.consumer for t in store.tokens.list("alice")] == ["adaptive", None]
    store.consumers.remove("adaptive")  # its tokens go with it
    assert store.tokens.authenticate_stream(token) is None
    assert [t.name for t in store.tokens.list("alice")] == ["ci"]
