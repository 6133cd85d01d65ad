"""Opening a store creates or upgrades the schema from the shipped migrations, safely."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from event_router.settings import Settings
from event_router.store import Store, StoreUnavailable, database_url
from event_router.store.database import SCHEMA_HEAD, VERSION_TABLE, alembic_config
from event_router.store.schema import metadata
from tests.concurrency import failures_together

TABLES = {
    "consumers",
    "consumer_removals",
    "control_revision",
    "identities",
    "courses",
    "dead_letters",
    "users",
    "api_tokens",
    "web_sessions",
    "history",
}


def test_schema_head_constant_is_the_newest_migration() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == SCHEMA_HEAD


def test_open_migrates_an_empty_database_to_head(database_url: str) -> None:
    with Store.open(database_url) as store:
        engine = store._db.engine
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            assert tables >= TABLES | {VERSION_TABLE}
            version = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
            assert version == SCHEMA_HEAD
            context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            diff = [d for d in compare_metadata(context, metadata) if _not_version_table(d)]
            assert diff == [], "schema.py and the migrations disagree"


def _not_version_table(diff: object) -> bool:
    table = diff[1] if isinstance(diff, tuple) and len(diff) > 1 else None
    return getattr(table, "name", None) != VERSION_TABLE


def test_reopening_keeps_data_and_does_not_migrate_again(database_url: str) -> None:
    from event_router.routing.consumer import Consumer

    with Store.open(database_url) as store:
        store.consumers.add(Consumer(name="a", url="http://lrs.test/xapi"))
    with Store.open(database_url) as store:
        assert [c.name for c in store.consumers.list()] == ["a"]


def test_concurrent_first_opens_all_succeed(database_url: str) -> None:
    assert failures_together(lambda: Store.open(database_url).close()) == []


def test_a_schema_newer_than_this_version_is_refused(database_url: str) -> None:
    Store.open(database_url).close()
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreUnavailable, match=r"9999.*upgrade event-router"):
        Store.open(database_url)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'c.db'}") as store, store._db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_unreachable_server_is_a_clear_error_without_the_password() -> None:
    with pytest.raises(StoreUnavailable) as caught:
        Store.open("postgresql://someone:hunter2@127.0.0.1:1/nothing?connect_timeout=2")
    message = str(caught.value)
    assert "cannot open the control-plane database" in message
    assert "hunter2" not in message and "***" in message


def test_invalid_url_is_a_clear_error() -> None:
    with pytest.raises(StoreUnavailable, match="invalid database URL"):
        Store.open("not a url")


def test_default_url_is_sqlite_in_the_home_and_the_environment_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EVENT_ROUTER_DATABASE_URL", raising=False)
    assert database_url(Settings(home=tmp_path)) == f"sqlite:///{tmp_path / 'control.db'}"
    monkeypatch.setenv("EVENT_ROUTER_DATABASE_URL", "postgresql://u@db/router")
    assert database_url(Settings(home=tmp_path)) == "postgresql+psycopg://u@db/router"


def test_many_concurrent_first_opens_of_new_sqlite_files(tmp_path: Path) -> None:
    """The race above, tried often: SQLite refuses the switch to WAL mode at once, without its
    busy timeout, while another connection makes it (it failed about one time in fifteen)."""
    for attempt in range(40):
        url = f"sqlite:///{tmp_path / f'c{attempt}.db'}"
        assert failures_together(partial(_open_and_close, url)) == [], attempt


def _open_and_close(url: str) -> None:
    Store.open(url).close()
