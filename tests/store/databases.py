"""Real databases for store tests: a SQLite file per test, and a schema per test in a database
created for this session on the local PostgreSQL server (dropped at the end).

PostgreSQL unreachable: the PostgreSQL cases fail under CI=true (CI must test it) and are skipped
with the reason elsewhere.
"""

from __future__ import annotations

import getpass
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

PG_ADDRESS = "127.0.0.1:5432"


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
    message = f"PostgreSQL at {PG_ADDRESS} is not reachable ({'; '.join(reasons)})"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


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


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty control-plane database: SQLite in tmp_path, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'control.db'}"
        return
    base: sa.URL = request.getfixturevalue("postgres_database")
    schema = f"t_{secrets.token_hex(6)}"
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()
