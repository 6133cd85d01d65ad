"""Forgotten learners in the control plane: their keyed hashes kept, everything else removed.

`forget` is one transaction: the learner's imported identities and the dead letters that carry
their events go, their keyed hashes join the retired list, and the control revision moves on so
every running router reads the new list within a second or two (and drops their later events).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from event_router.store.audit import record as audit
from event_router.store.database import Database, utcnow
from event_router.store.schema import dead_letters, identities, retired_learners

_CHUNK = 1000


class RetiredLearners:
    """The retired list: keyed hashes (HMAC of user id or username), never the values."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def keys(self) -> frozenset[str]:
        with self._db.read() as conn:
            return frozenset(conn.execute(sa.select(retired_learners.c.key_hash)).scalars())

    def count(self) -> int:
        with self._db.read() as conn:
            query = sa.select(sa.func.count()).select_from(retired_learners)
            return int(conn.execute(query).scalar_one())

    def forget(
        self,
        user_id: str | None,
        username: str | None,
        keys: Sequence[str],
        names_learner: Callable[[Any], bool],
    ) -> dict[str, int]:
        """Remove the learner's identities and the dead letters whose event `names_learner`,
        and list `keys` as retired, all or nothing; how many rows of each went (or came)."""
        with self._db.write() as conn:
            self._db.bump(conn)
            named = []
            if user_id:
                named.append(identities.c.user_id == user_id)
            if username:
                named.append(identities.c.username == username)
            gone = conn.execute(sa.delete(identities).where(sa.or_(*named))).rowcount
            letters = 0
            after = 0
            while True:
                rows = conn.execute(
                    sa.select(dead_letters.c.id, dead_letters.c.event)
                    .where(dead_letters.c.id > after)
                    .order_by(dead_letters.c.id)
                    .limit(_CHUNK)
                ).all()
                if not rows:
                    break
                after = rows[-1][0]
                hits = [row[0] for row in rows if row[1] is not None and names_learner(row[1])]
                if hits:
                    query = sa.delete(dead_letters).where(dead_letters.c.id.in_(hits))
                    letters += conn.execute(query).rowcount
            known = set(
                conn.execute(
                    sa.select(retired_learners.c.key_hash).where(
                        retired_learners.c.key_hash.in_(list(keys))
                    )
                ).scalars()
            )
            new = [key for key in dict.fromkeys(keys) if key not in known]
            if new:
                insert = (
                    postgresql.insert(retired_learners)
                    if conn.dialect.name == "postgresql"
                    else sqlite.insert(retired_learners)
                )
                now = utcnow()
                conn.execute(  # a concurrent forget of the same learner is no error
                    insert.on_conflict_do_nothing(index_elements=["key_hash"]),
                    [{"key_hash": key, "retired_at": now} for key in new],
                )
            # Who was forgotten is not logged: that would keep what forgetting removes.
            audit(conn, "learner.forget", "a learner", identities=gone, dead_letters=letters)
        return {"identities": gone, "dead_letters": letters, "retired_keys": len(new)}
