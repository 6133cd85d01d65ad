"""Alembic environment: runs on the connection `Database.migrate` hands over, in its transaction.

There is no alembic.ini and no URL here on purpose: the store decides where the database is and
holds the migration lock; this only runs the scripts.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from event_router.store.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through event_router.store.Store.open()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=config.get_main_option("version_table") or "alembic_version",
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
