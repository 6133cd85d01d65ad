"""The real PostgreSQL and Redis the tests use, each fixture written once (registered for the
whole suite in tests/conftest.py).

- PostgreSQL at 127.0.0.1:5432: a database created for this session (dropped at the end), and a
  fresh schema per test (`database_url`'s PostgreSQL case, `control_plane`).
- The control plane itself: `store`, opened on `database_url` (a directory whose tests need the
  shared PostgreSQL only, tests/scaleout, makes `database_url` its `control_plane`).
- Redis at 127.0.0.1:6379: a key prefix of the test's own, every key under it deleted after
  (`journal_redis`; the event-bus fixture `bus_redis` of tests/peers/bus.py uses `redis_client`).

A server that is unreachable fails the test under CI=true (CI must test it) and skips it, with the
reason, elsewhere.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, cast

import pytest
import redis
import sqlalchemy as sa

if TYPE_CHECKING:
    from event_router.store import Store

PG_ADDRESS = "127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/0"
STORE_KEY = "store tests"  # the `store` fixture's secret key: consumers' secrets are sealed


def unreachable(message: str) -> NoReturn:
    """Fail under CI=true, skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _admin_engine() -> sa.Engine:
    reasons = []
    for user in dict.fromkeys(("postgres", "root", getpass.getuser())):
        engine = sa.create_engine(
            f"postgresql+psycopg://{user}@{PG_ADDRESS}/postgres",
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": 5},
        )
        try:
            with engine.connect():
                return engine
        except sa.exc.OperationalError as exc:
            reasons.append(f"{user}: {str(exc.orig).strip().splitlines()[0]}")
            engine.dispose()
    unreachable(f"PostgreSQL at {PG_ADDRESS} is not reachable ({'; '.join(reasons)})")


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[sa.URL]:
    """A uniquely named database for this test session."""
    admin = _admin_engine()
    name = f"event_router_test_{os.getpid()}_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin.url.set(database=name)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@contextlib.contextmanager
def fresh_schema(database: sa.URL) -> Iterator[str]:
    """A URL whose connections use a new, empty schema of `database` (dropped after)."""
    schema = f"t_{secrets.token_hex(6)}"
    engine = sa.create_engine(database, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        url = database.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty control-plane database: SQLite in tmp_path, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'control.db'}"
        return
    with fresh_schema(request.getfixturevalue("postgres_database")) as url:
        yield url


@pytest.fixture
def control_plane(postgres_database: sa.URL) -> Iterator[str]:
    """A control-plane URL on a fresh schema of the session's PostgreSQL database."""
    with fresh_schema(postgres_database) as url:
        yield url


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """The control plane on an empty database, migrated, with a secret key (`STORE_KEY`)."""
    from event_router.store import Store  # the store's imports only for the tests that use it

    with Store.open(database_url, secret_key=STORE_KEY) as opened:
        yield opened


def redis_client() -> redis.Redis:
    """A connection to the real Redis (skips or fails the test when it is unreachable)."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=10)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        unreachable(f"Redis at 127.0.0.1:6379 is not reachable ({exc})")
    return client


def delete_keys(client: redis.Redis, pattern: str) -> None:
    keys = list(client.scan_iter(match=pattern, count=1000))
    if keys:
        client.delete(*keys)


@dataclass
class JournalRedis:
    url: str
    prefix: str
    client: redis.Redis

    @property
    def stream(self) -> str:
        return f"{self.prefix}:journal"

    def cleanup(self) -> None:
        delete_keys(self.client, f"{self.prefix}:*")


@pytest.fixture
def journal_redis() -> Iterator[JournalRedis]:
    """The real Redis and a key prefix of this test's own; every key under it is deleted after."""
    client = redis_client()
    journal = JournalRedis(REDIS_URL, f"test-router-{uuid.uuid4().hex[:12]}", client)
    try:
        yield journal
    finally:
        journal.cleanup()
        client.close()


Entries = list[tuple[bytes, dict[bytes, bytes]]]


def stream_entries(
    client: redis.Redis, stream: str, start: str = "-", end: str = "+", count: int | None = None
) -> Entries:
    """XRANGE with the types a client without `decode_responses` returns (ids and fields as
    bytes), which redis-py's annotations leave open."""
    return cast(Entries, client.xrange(stream, start, end, count))
