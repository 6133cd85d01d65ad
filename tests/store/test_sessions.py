"""Web sessions in the store (SQLite and PostgreSQL): only a hash of the token is kept, and a
session ends at sign-out, on a password or role change, with its user, when idle or too old, or
when revoked; user names are unique whatever their case."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from event_router.store import DuplicateUser, Store, StoreUnavailable, UnknownUser
from event_router.store.database import VERSION_TABLE, alembic_config, utcnow
from event_router.store.schema import web_sessions
from event_router.store.sessions import LIFETIME
from event_router.store.tokens import token_digest


def _age(store: Store, token: str, **columns: timedelta) -> None:
    """Move a session's times into the past."""
    values = {name: utcnow() - delta for name, delta in columns.items()}
    with store._db.write() as conn:
        conn.execute(
            sa.update(web_sessions)
            .where(web_sessions.c.token_hash == token_digest(token))
            .values(**values)
        )


def test_only_a_hash_of_the_token_is_stored_and_sign_out_ends_it(store: Store) -> None:
    alice = store.users.add("alice", "alice-password", "admin")
    token = store.sessions.start(alice, "10.0.0.7")
    with store._db.read() as conn:
        rows = conn.execute(sa.select(web_sessions)).all()
    assert len(rows) == 1 and token not in str(tuple(rows[0]))
    assert rows[0].token_hash == token_digest(token)
    active = store.sessions.resume(token)
    assert active is not None and active.user.username == "alice"
    assert store.sessions.resume(token + "x") is None
    [info] = store.sessions.list()
    assert (info.username, info.client) == ("alice", "10.0.0.7")
    assert token not in str(info.to_json())
    assert store.sessions.end(token) is True
    assert store.sessions.resume(token) is None
    assert store.sessions.end(token) is False


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.users.set_password("alice", "a-new-password"),
        lambda s: s.users.set_role("alice", "viewer"),
        lambda s: s.users.remove("alice"),
        lambda s: s.sessions.end_all("ALICE"),
    ],
    ids=["password", "role", "removal", "revocation"],
)
def test_account_changes_end_every_session_of_that_user_only(store: Store, change: object) -> None:
    alice = store.users.add("alice", "alice-password", "admin")
    bob = store.users.add("bob", "bob-password", "admin")
    tokens = [store.sessions.start(alice, "10.0.0.1") for _ in range(2)]
    other = store.sessions.start(bob, "10.0.0.2")
    change(store)  # type: ignore[operator]
    assert [store.sessions.resume(t) for t in tokens] == [None, None]
    assert store.sessions.resume(other) is not None
    assert [s.username for s in store.sessions.list()] == ["bob"]


def test_idle_and_old_sessions_end(store: Store) -> None:
    alice = store.users.add("alice", "alice-password")
    idle, old, fresh = (store.sessions.start(alice, "10.0.0.1") for _ in range(3))
    _age(store, idle, last_seen_at=store.sessions.idle + timedelta(seconds=5))
    _age(store, old, created_at=LIFETIME + timedelta(seconds=5))
    assert store.sessions.resume(idle) is None
    assert store.sessions.resume(old) is None
    assert store.sessions.resume(fresh) is not None
    assert len(store.sessions.list()) == 1
    store.sessions.idle = timedelta(hours=1)  # EVENT_ROUTER_SESSION_IDLE_MINUTES=60
    kept = store.sessions.start(alice, "10.0.0.1")
    _age(store, kept, last_seen_at=timedelta(minutes=45))
    assert store.sessions.resume(kept) is not None


def test_use_keeps_a_session_alive(store: Store) -> None:
    alice = store.users.add("alice", "alice-password")
    token = store.sessions.start(alice, "10.0.0.1")
    _age(store, token, last_seen_at=store.sessions.idle - timedelta(seconds=30))
    assert store.sessions.resume(token) is not None  # marks it used
    [info] = store.sessions.list()
    assert utcnow() - info.last_seen_at < timedelta(seconds=10)


def test_a_flash_message_is_shown_once(store: Store) -> None:
    alice = store.users.add("alice", "alice-password")
    token = store.sessions.start(alice, "10.0.0.1")
    active = store.sessions.resume(token)
    assert active is not None
    store.sessions.set_flash(active.session_id, "Saved.")
    assert store.sessions.resume(token).flash is None  # type: ignore[union-attr]  # not taken
    assert store.sessions.resume(token, take_flash=True).flash == "Saved."  # type: ignore[union-attr]
    assert store.sessions.resume(token, take_flash=True).flash is None  # type: ignore[union-attr]


def test_user_names_are_unique_whatever_their_case(store: Store) -> None:
    store.users.add("Alice", "alice-password", "admin")
    with pytest.raises(DuplicateUser):
        store.users.add("alice", "other-password")
    assert store.users.get("ALICE").username == "Alice"
    assert store.users.authenticate("alice", "alice-password") is not None
    store.users.set_role("aLiCe", "viewer")
    store.users.remove("alice")
    with pytest.raises(UnknownUser):
        store.users.get("Alice")
    with pytest.raises(UnknownUser):
        store.sessions.end_all("Alice")


def test_upgrading_a_database_with_case_clashes_names_them_and_changes_nothing(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'control.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # a database of 0002, where names differing in case were allowed
        config = alembic_config()
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
        now = utcnow()
        for name in ("alice", "ALICE"):
            conn.exec_driver_sql(
                "INSERT INTO users (username, password_hash, role, created_at, updated_at) "
                "VALUES (?, 'not-a-hash', 'admin', ?, ?)",
                (name, now, now),
            )
    with pytest.raises(StoreUnavailable, match="differ only in case: alice, ALICE"):
        Store.open(url)
    with engine.begin() as conn:
        version = conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalar()
        names = conn.exec_driver_sql("SELECT username FROM users ORDER BY id").scalars().all()
        conn.exec_driver_sql("DELETE FROM users WHERE username = 'ALICE'")
    assert (version, names) == ("0002", ["alice", "ALICE"])
    with Store.open(url) as store:  # once resolved, the upgrade goes through
        assert [u.username for u in store.users.list()] == ["alice"]
    engine.dispose()
