"""Re-sealing consumers' stored secrets as a whole: rows an older version wrote in clear, and
every row under a new secret key (rotation). Rows themselves are read and written by consumers.py.
"""

from __future__ import annotations

import sqlalchemy as sa

from event_router.store.audit import record as audit
from event_router.store.database import Database
from event_router.store.encryption import SecretBox, plaintext, sealed_with
from event_router.store.schema import consumers


def seal_plaintext(db: Database, box: SecretBox) -> int:
    """Encrypt the secrets of rows written before encryption; the number of rows changed.

    Idempotent and cheap when there is nothing to do (one read of the consumers table). The
    revision is not bumped: what the rows mean is unchanged.
    """
    with db.read() as conn:
        rows = conn.execute(sa.select(consumers.c.id, consumers.c.config)).all()
    if not any(plaintext(row.config) for row in rows):
        return 0
    changed = 0
    with db.write() as conn:
        for row in conn.execute(sa.select(consumers.c.id, consumers.c.config)).all():
            if plaintext(row.config):
                sealed = box.seal_config(row.config)
                conn.execute(
                    sa.update(consumers).where(consumers.c.id == row.id).values(config=sealed)
                )
                changed += 1
    return changed


def reencrypt(db: Database, old: SecretBox, new: SecretBox) -> int:
    """Re-encrypt every consumer's secrets from `old` to `new`, in one transaction; rows already
    under `new` (a rotation resumed after a crash) are left as they are."""
    changed = 0
    with db.write() as conn:
        db.bump(conn)  # the lock that orders writers; no consumer changes meaning
        rows = conn.execute(sa.select(consumers).with_for_update()).all()
        for row in rows:
            if sealed_with(row.config) <= {new.key_id} and not plaintext(row.config):
                continue
            opened = old.open_config(row.config, f"consumer {row.name!r}")
            conn.execute(
                sa.update(consumers)
                .where(consumers.c.id == row.id)
                .values(config=new.seal_config(opened))
            )
            changed += 1
        if changed:  # which key, never the key: its id is a fingerprint
            audit(conn, "secret_key.rotate", "consumers", rows=changed)
    return changed
