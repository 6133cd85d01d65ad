"""Connecting to the control-plane database and bringing its schema to the current version.

SQLite (the default, one file in the home) runs in WAL mode with foreign keys on, and SQLAlchemy
emits BEGIN itself so transactions (and transactional DDL) mean what they say; writes take the lock
up front (BEGIN IMMEDIATE) so two writers queue instead of failing half way. PostgreSQL is reached
with psycopg 3. Either way the schema comes from the Alembic migrations shipped in this package,
run on open under a lock, so several processes may open a new database at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from event_router.home import private_file
from event_router.settings import Settings
from event_router.store.errors import StoreUnavailable
from event_router.store.schema import control_revision
from event_router.walmode import use_wal

if TYPE_CHECKING:
    from alembic.config import Config

CONTROL_DB = "control.db"
MAX_ROW_ID = 2**63 - 1  # the largest row id SQLite and PostgreSQL (bigint) can hold
VERSION_TABLE = "event_router_alembic_version"
SCHEMA_HEAD = "0008"  # the newest migration; a test checks it against migrations/versions
MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK = 0x65726F75  # any fixed key: serialises concurrent upgrades on PostgreSQL


def database_url(settings: Settings) -> str:
    """EVENT_ROUTER_DATABASE_URL if set, else SQLite in the home."""
    if settings.database_url:
        return normalise_url(settings.database_url)
    return f"sqlite:///{(settings.home / CONTROL_DB).resolve()}"


def store_exists(settings: Settings) -> bool:
    """Whether there is a store to read: a configured server, or the home's SQLite file."""
    return settings.has_store()


def normalise_url(url: str) -> str:
    """`postgres://` and `postgresql://` mean psycopg 3, the driver we ship (not psycopg2)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def safe_url(url: str | sa.URL) -> str:
    """The URL without its password, for messages."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparseable database URL>"


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """Times in UTC: SQLite hands back naive datetimes (we store UTC), PostgreSQL its own zone."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Database:
    """An engine (thread-safe, pooled) with the two kinds of transaction the store uses."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._writer = engine.execution_options(event_router_write=True)

    @classmethod
    def connect(cls, url: str) -> Database:
        url = normalise_url(url)
        try:
            parsed = sa.make_url(url)
        except sa.exc.ArgumentError as exc:
            raise StoreUnavailable(f"invalid database URL: {exc}") from None
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_engine(parsed)
        else:
            engine = sa.create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=10)
        return cls(engine)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction: one consistent snapshot on SQLite."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed on success and rolled back on any exception."""
        with self._writer.begin() as conn:
            yield conn

    def bump(self, conn: Connection) -> int:
        """Take the next control revision. Call first in a write: the row lock it takes orders
        concurrent writers, so revisions become visible in increasing order (a poller never misses
        one) and all writers lock in the same order (no deadlock)."""
        conn.execute(sa.update(control_revision).values(value=control_revision.c.value + 1))
        return int(conn.execute(sa.select(control_revision.c.value)).scalar_one())

    def revision(self, conn: Connection) -> int:
        return int(conn.execute(sa.select(control_revision.c.value)).scalar_one())

    def migrate(self) -> None:
        """Upgrade the schema to the newest migration, under a lock; refuse a newer schema.

        A database already at SCHEMA_HEAD (every open but the first after an upgrade) costs one
        query and does not import Alembic, which keeps short CLI commands quick.
        """
        try:
            with self.read() as conn:
                if self._schema_version(conn) == SCHEMA_HEAD:
                    return
            with self.write() as conn:
                if self.dialect == "postgresql":
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
                _upgrade(conn, self._schema_version(conn))
        except sa.exc.SQLAlchemyError as exc:
            raise StoreUnavailable(
                f"cannot open the control-plane database {safe_url(self.engine.url)}: "
                f"{_reason(exc)}"
            ) from None

    @staticmethod
    def _schema_version(conn: Connection) -> str | None:
        if not sa.inspect(conn).has_table(VERSION_TABLE):
            return None
        table = sa.table(VERSION_TABLE, sa.column("version_num", sa.String))
        return conn.execute(sa.select(table.c.version_num)).scalar()

    def scrub(self) -> None:
        """After secrets were rewritten: empty SQLite's WAL, which still holds the old pages (the
        main file's freed space is zeroed by secure_delete). Nothing to do on PostgreSQL."""
        if self.dialect == "sqlite":
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def dispose(self) -> None:
        self.engine.dispose()


def _upgrade(conn: Connection, current: str | None) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    config = alembic_config()
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    if current is not None and current not in known:
        raise StoreUnavailable(
            f"the control-plane schema is at {current!r}, which this version of event-router "
            "does not know: upgrade event-router"
        )
    config.attributes["connection"] = conn
    command.upgrade(config, "head")


def alembic_config() -> Config:
    """Alembic configuration for the shipped migrations (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("version_table", VERSION_TABLE)
    return config


def _sqlite_engine(url: sa.URL) -> Engine:
    if url.database and url.database != ":memory:":
        private_file(Path(url.database))  # before SQLite: -wal and -shm take the file's mode
    engine = sa.create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}, pool_pre_ping=False
    )

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see module doc)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 30000")
        use_wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA secure_delete = ON")  # overwritten secrets leave no trace
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("event_router_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _reason(exc: sa.exc.SQLAlchemyError) -> str:
    """The driver's own words, first line only (SQLAlchemy appends SQL and a docs link)."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()
    return text[0] if text else type(exc).__name__
