"""Fixtures for scale-out tests: a private key prefix on the real Redis, a fresh PostgreSQL schema.

Redis or PostgreSQL unreachable: the tests fail under CI=true (CI must test them) and are skipped
with the reason elsewhere.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
import sqlalchemy as sa

from tests.store.databases import postgres_database

__all__ = ["JournalRedis", "control_plane", "journal_redis", "postgres_database"]

REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class JournalRedis:
    url: str
    prefix: str
    client: redis.Redis

    @property
    def stream(self) -> str:
        return f"{self.prefix}:journal"

    def cleanup(self) -> None:
        keys = list(self.client.scan_iter(match=f"{self.prefix}:*", count=1000))
        if keys:
            self.client.delete(*keys)


@pytest.fixture
def journal_redis() -> Iterator[JournalRedis]:
    """The real Redis and a key prefix of this test's own; every key under it is deleted after."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=10)
    try:
        client.ping()
    except redis.RedisError as exc:
        message = f"Redis at 127.0.0.1:6379 is not reachable ({exc})"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    journal = JournalRedis(REDIS_URL, f"test-router-{uuid.uuid4().hex[:12]}", client)
    try:
        yield journal
    finally:
        journal.cleanup()
        client.close()


@pytest.fixture
def control_plane(postgres_database: sa.URL) -> Iterator[str]:
    """A control-plane URL on a fresh schema of the session's PostgreSQL database."""
    schema = f"t_{secrets.token_hex(6)}"
    engine = sa.create_engine(postgres_database, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        url = postgres_database.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()
