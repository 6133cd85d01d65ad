"""Consumers' secrets are encrypted at rest, on SQLite and PostgreSQL, and older rows are sealed."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from event_router.routing.consumer import Consumer
from event_router.store import SecretsUnreadable, Store
from event_router.store.schema import consumers

KEY = "encryption tests"
SECRETS = {
    "password": "pw-3c1f9e-secret",
    "signing_secret": "sign-8d2a77-secret",
    "header": "hdr-51be0c-secret",
}


def _consumer(name: str = "lrs") -> Consumer:
    return Consumer(
        name=name,
        url="https://lrs.example.com/xapi/statements",
        sink="webhook",  # the one sink with every kind of secret: auth, signing, headers
        auth="basic",
        username="router",
        password=SECRETS["password"],
        signing_secret=SECRETS["signing_secret"],
        headers={"X-Api-Key": SECRETS["header"], "X-Tenant": "plain"},
    )


def _raw(database_url: str) -> bytes:
    """What an attacker with the files (SQLite: main file and WAL) or the column (PG) sees."""
    if database_url.startswith("sqlite"):
        path = Path(sa.make_url(database_url).database or "")
        return b"".join(
            p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists()
        )
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT config::text FROM consumers")).scalars()
            return "\n".join(rows).encode()
    finally:
        engine.dispose()


def test_added_secrets_never_reach_the_database_in_clear(database_url: str) -> None:
    with Store.open(database_url, secret_key=KEY) as store:
        store.consumers.add(_consumer())
        raw = _raw(database_url)
        assert b"plain" in raw  # the raw view does hold the row
        for secret in SECRETS.values():
            assert secret.encode() not in raw
        got = store.consumers.get("lrs")  # and the store reads them back
        assert got.password == SECRETS["password"]
        assert got.headers["X-Api-Key"] == SECRETS["header"]


def test_rows_from_before_encryption_are_sealed_on_open(database_url: str) -> None:
    with Store.open(database_url, secret_key=KEY) as store:
        store.consumers.add(_consumer())
        with store._db.write() as conn:  # as an older version wrote it: secrets in clear
            clear = _consumer().model_dump(mode="json", exclude={"name", "enabled"})
            conn.execute(sa.update(consumers).values(config=clear))
    assert SECRETS["password"].encode() in _raw(database_url)
    with Store.open(database_url, secret_key=KEY) as store:
        raw = _raw(database_url)
        for secret in SECRETS.values():
            assert secret.encode() not in raw
        assert store.consumers.get("lrs").signing_secret == SECRETS["signing_secret"]


def test_another_key_is_named_not_misread(database_url: str) -> None:
    with Store.open(database_url, secret_key=KEY) as store:
        store.consumers.add(_consumer())
    with (
        Store.open(database_url, secret_key="another key") as store,
        pytest.raises(SecretsUnreadable, match="secret-key rotate"),
    ):
        store.consumers.get("lrs")


def test_rotation_re_encrypts_every_row(database_url: str) -> None:
    with Store.open(database_url, secret_key=KEY) as store:
        store.consumers.add(_consumer("a"))
        store.consumers.add(_consumer("b"))
        assert store.reencrypt("the new key") == 2
    with Store.open(database_url, secret_key="the new key") as store:
        assert [c.password for c in store.consumers.list()] == [SECRETS["password"]] * 2
        assert store.reencrypt("the new key") == 0  # resumed rotation: nothing left to do
    for secret in SECRETS.values():
        assert secret.encode() not in _raw(database_url)


def test_after_a_key_change_an_update_can_enter_the_secrets_again(database_url: str) -> None:
    """The way out after a new key was accepted without `secret-key rotate`."""
    with Store.open(database_url, secret_key=KEY) as store:
        store.consumers.add(_consumer())
    with Store.open(database_url, secret_key="accepted new key") as store:
        store.consumers.update(
            "lrs",
            {"password": "again", "signing_secret": "again", "headers": {"X-Api-Key": "again"}},
        )
        consumer = store.consumers.get("lrs")
    assert (consumer.password, consumer.headers["X-Api-Key"]) == ("again", "again")
