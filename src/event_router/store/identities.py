"""Learner identities and course names imported from the LMS, shared by every router process.

Imports are upserts in one transaction: a file with a bad line changes nothing, and importing a
newer export of the same LMS table updates ids in place. Files are read as they stream, in chunks,
so an LMS with millions of learners imports in bounded memory.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from event_router.routing.catalogue import CatalogueError, CourseCatalogue
from event_router.routing.identity import IdentityError, IdentityTable, Kind
from event_router.store.audit import record as audit
from event_router.store.database import Database
from event_router.store.schema import courses, identities

_CHUNK = 2000
_IDENTITY_COLUMNS = {"user_id", "username", "kind", "anonymous_id"}


class Identities:
    """Anonymous ids (and emails) per learner and kind: ERB's `ExternalId` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def import_csv(self, path: str | Path) -> int:
        """Upsert `user_id,username,kind,anonymous_id[,email]` rows; the number of rows read."""
        return _import(self._db, identities, ["kind", "user_key"], _identity_rows(Path(path)))

    def table(self) -> IdentityTable:
        table = IdentityTable()
        query = sa.select(
            identities.c.kind,
            identities.c.anonymous_id,
            identities.c.user_id,
            identities.c.username,
            identities.c.email,
        ).order_by(identities.c.kind, identities.c.user_key)
        with self._db.read() as conn:
            for kind, anonymous_id, user_id, username, email in conn.execute(query):
                table.add(kind, anonymous_id, user_id, username, email)
        return table

    def count(self) -> int:
        with self._db.read() as conn:
            query = sa.select(sa.func.count()).select_from(identities)
            return int(conn.execute(query).scalar_one())


class Courses:
    """Course display names (ERB reads them from the LMS database)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def import_csv(self, path: str | Path) -> int:
        """Upsert `course_id,display_name` rows; the number of rows read."""
        return _import(self._db, courses, ["course_id"], _course_rows(Path(path)))

    def catalogue(self) -> CourseCatalogue:
        with self._db.read() as conn:
            rows = conn.execute(sa.select(courses.c.course_id, courses.c.display_name))
            return CourseCatalogue({course_id: name for course_id, name in rows})

    def count(self) -> int:
        with self._db.read() as conn:
            query = sa.select(sa.func.count()).select_from(courses)
            return int(conn.execute(query).scalar_one())


def _import(db: Database, table: sa.Table, keys: list[str], rows: Iterator[dict[str, Any]]) -> int:
    """Upsert rows in chunks inside one transaction; any error (a bad line) rolls back all."""
    count = 0
    with db.write() as conn:
        chunk: dict[tuple[Any, ...], dict[str, Any]] = {}
        for row in rows:
            chunk[tuple(row[key] for key in keys)] = row  # last one wins, as in the file
            count += 1
            if len(chunk) >= _CHUNK:
                _upsert(conn, table, keys, list(chunk.values()))
                chunk.clear()
        if chunk:
            _upsert(conn, table, keys, list(chunk.values()))
        audit(conn, f"{table.name}.import", table.name, rows=count)
    return count


def _upsert(conn: Connection, table: sa.Table, keys: list[str], rows: list[dict[str, Any]]) -> None:
    insert = postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)
    others = {c.name: insert.excluded[c.name] for c in table.columns if c.name not in keys}
    conn.execute(insert.on_conflict_do_update(index_elements=keys, set_=others), rows)


def _identity_rows(path: Path) -> Iterator[dict[str, Any]]:
    for line, row in _csv(path, _IDENTITY_COLUMNS, IdentityError):
        kind = (row.get("kind") or "").strip().lower()
        if kind not in (Kind.XAPI, Kind.CALIPER):
            raise IdentityError(f"{path}:{line}: kind must be xapi or caliper, not {kind!r}")
        anonymous_id = (row.get("anonymous_id") or "").strip()
        if not anonymous_id:
            raise IdentityError(f"{path}:{line}: anonymous_id is empty")
        user_id = (row.get("user_id") or "").strip() or None
        username = (row.get("username") or "").strip() or None
        if not user_id and not username:
            raise IdentityError(f"{path}:{line}: user_id and username are both empty")
        yield {
            "kind": kind,
            "user_key": f"id:{user_id}" if user_id else f"name:{username}",
            "user_id": user_id,
            "username": username,
            "anonymous_id": anonymous_id,
            "email": (row.get("email") or "").strip() or None,
        }


def _course_rows(path: Path) -> Iterator[dict[str, Any]]:
    for line, row in _csv(path, {"course_id", "display_name"}, CatalogueError):
        course_id = (row.get("course_id") or "").strip()
        if not course_id:
            raise CatalogueError(f"{path}:{line}: course_id is empty")
        name = row.get("display_name") or ""
        if not name.strip():
            raise CatalogueError(f"{path}:{line}: display_name is empty")
        yield {"course_id": course_id, "display_name": name}


def _csv(
    path: Path, required: set[str], error: type[ValueError]
) -> Iterator[tuple[int, dict[str, str | None]]]:
    """Rows with their line numbers; a UTF-8 BOM (spreadsheet exports) is fine."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = required - {name.strip() for name in reader.fieldnames or ()}
            if missing:
                raise error(f"{path}: missing column(s) {', '.join(sorted(missing))}")
            reader.fieldnames = [name.strip() for name in reader.fieldnames or ()]
            for row in reader:
                if None in row:
                    raise error(f"{path}:{reader.line_num}: more fields than the header has")
                yield reader.line_num, row
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise error(f"{path}: not UTF-8 text") from None
    except csv.Error as exc:
        raise error(f"{path}: {exc}") from None
