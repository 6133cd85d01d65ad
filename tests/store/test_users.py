"""Users in the store (SQLite and PostgreSQL): hashing, roles, authentication, removal."""

from __future__ import annotations

from typing import Literal

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher, extract_parameters

from event_router.store import (
    DuplicateUser,
    InvalidUser,
    Role,
    Store,
    UnknownUser,
)
from event_router.store.users import Users, users


def test_add_get_list_and_passwords_are_argon2_hashes(store: Store) -> None:
    added = store.users.add("alice", "alice-password", "admin")
    store.users.add("bob", "bob-password")
    assert added.username == "alice" and added.role is Role.ADMIN
    assert store.users.get("bob").role is Role.VIEWER
    assert [u.username for u in store.users.list()] == ["alice", "bob"]
    assert store.users.count() == 2 and store.users.count(Role.ADMIN) == 1
    with store._db.read() as conn:
        stored = conn.execute(sa.select(users.c.password_hash)).scalars().all()
    assert all(h.startswith("$argon2id$") for h in stored)
    assert not any("password" in h for h in stored)
    assert "alice-password" not in repr(added) and "argon2" not in repr(added)


def test_authenticate(store: Store) -> None:
    store.users.add("alice", "alice-password", "admin")
    assert store.users.authenticate("alice", "alice-password") is not None
    assert store.users.authenticate("alice", "Alice-password") is None
    assert store.users.authenticate("nobody", "alice-password") is None
    assert store.users.authenticate("alice", "") is None


@pytest.mark.parametrize(
    ("username", "password", "role", "message"),
    [
        ("", "long-enough", "viewer", "a username is 1-150"),
        ("has space", "long-enough", "viewer", "a username is 1-150"),
        ("alice", "short", "viewer", "at least 8 characters"),
        ("alice", "x" * 1025, "viewer", "at most 1024 characters"),
        ("alice", "long-enough", "root", "unknown role 'root'"),
    ],
)
def test_invalid_users_are_refused(
    store: Store, username: str, password: str, role: str, message: str
) -> None:
    with pytest.raises(InvalidUser, match=message):
        store.users.add(username, password, role)
    assert store.users.count() == 0


def test_duplicates_unknowns_and_changes(store: Store) -> None:
    store.users.add("alice", "alice-password")
    with pytest.raises(DuplicateUser):
        store.users.add("alice", "another-password")
    for call in (
        lambda: store.users.get("nobody"),
        lambda: store.users.remove("nobody"),
        lambda: store.users.set_password("nobody", "long-enough"),
        lambda: store.users.set_role("nobody", "admin"),
    ):
        with pytest.raises(UnknownUser):
            call()
    store.users.set_password("alice", "new-password")
    assert store.users.authenticate("alice", "alice-password") is None
    assert store.users.authenticate("alice", "new-password") is not None
    with pytest.raises(InvalidUser):
        store.users.set_password("alice", "short")
    store.users.set_role("alice", "admin")
    assert store.users.get("alice").role is Role.ADMIN


def test_outdated_hashes_are_upgraded_on_login(store: Store) -> None:
    weak = Users(store._db, PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    weak.add("alice", "alice-password")
    with store._db.read() as conn:
        before = conn.execute(sa.select(users.c.password_hash)).scalar_one()
    assert store.users.authenticate("alice", "alice-password") is not None
    with store._db.read() as conn:
        after = conn.execute(sa.select(users.c.password_hash)).scalar_one()
    assert before != after and PasswordHasher().check_needs_rehash(after) is False


class CountingHasher(PasswordHasher):
    """The real hasher, noting the hash each verification ran against."""

    def __init__(self) -> None:
        super().__init__()
        self.verified: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verified.append(hash if isinstance(hash, str) else hash.decode())
        return super().verify(hash, password)


def test_an_unknown_name_costs_one_verification_with_the_same_parameters(store: Store) -> None:
    hasher = CountingHasher()
    people = Users(store._db, hasher)
    people.add("alice", "alice-password")
    people.authenticate("nobody", "a-guess")  # the first one also makes the dummy hash
    for name in ("alice", "nobody", "NOBODY"):
        assert people.authenticate(name, "a-guess") is None
    known, *unknown = hasher.verified[1:]
    assert len(unknown) == 2
    assert [extract_parameters(h) for h in unknown] == [extract_parameters(known)] * 2
    assert extract_parameters(known) == extract_parameters(hasher.hash("x"))
