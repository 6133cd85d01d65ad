"""API tokens bound to a stream consumer (SQLite and PostgreSQL): good for that stream only."""

from __future__ import annotations

import pytest

from event_router.routing.consumer import Consumer
from event_router.store import InvalidUser, Store


def test_a_bound_token_reads_its_stream_and_nothing_else(store: Store) -> None:
    store.users.add("alice", "alice-password", "admin")
    store.consumers.add(Consumer(name="adaptive", url="stream:", sink="stream"))
    store.consumers.add(Consumer(name="lrs", url="http://lrs.test/xapi"))
    record, token = store.users.create_token("alice", "engine", consumer="adaptive")
    assert record.consumer == "adaptive" and record.to_json()["consumer"] == "adaptive"
    assert store.users.authenticate_token(token) is None  # not an API token for alice
    found = store.users.stream_token(token)
    assert (
        found is not None
        and found[0].username == "alice"
        and found[1:]
        == (
            "engine",
            "adaptive",
        )
    )
    _, plain = store.users.create_token("alice", "ci")
    assert store.users.stream_token(plain) is None and store.users.authenticate_token(plain)
    with pytest.raises(InvalidUser, match="not a stream consumer"):
        store.users.create_token("alice", "engine", consumer="lrs")
    with pytest.raises(InvalidUser, match="no consumer named"):
        store.users.create_token("alice", "engine", consumer="nobody")
    with pytest.raises(InvalidUser, match="no role"):
        store.users.create_token("alice", "engine", "admin", consumer="adaptive")
    assert [t.consumer for t in store.users.tokens("alice")] == ["adaptive", None]
    store.consumers.remove("adaptive")  # its tokens go with it
    assert store.users.stream_token(token) is None
    assert [t.name for t in store.users.tokens("alice")] == ["ci"]
