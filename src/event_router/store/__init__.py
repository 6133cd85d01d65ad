"""The control plane: consumers, learner identities, course names and dead letters, in SQLite (the
home's `control.db`) or PostgreSQL (`EVENT_ROUTER_DATABASE_URL`) when several routers share it.

Synchronous and thread-safe: the web API and the delivery engine call it from worker threads.
The journal and delivery cursors live elsewhere (they are written far more often).
"""

from __future__ import annotations

from datetime import timedelta
from types import TracebackType

from event_router.actor import acting_as, set_actor
from event_router.settings import Settings
from event_router.sinks.destinations import Destinations
from event_router.store.audit import AuditLog, Entry
from event_router.store.consumers import Changes, ConsumerRecord, Consumers, ImportResult
from event_router.store.database import Database, database_url, safe_url, store_exists
from event_router.store.dead_letters import DeadLetter, DeadLetters, State
from event_router.store.encryption import SecretBox, SecretsUnreadable
from event_router.store.errors import (
    DuplicateConsumer,
    InvalidConfig,
    StoreError,
    StoreUnavailable,
    UnknownConsumer,
    UnknownDeadLetter,
)
from event_router.store.history import History
from event_router.store.identities import Courses, Identities
from event_router.store.resealing import reencrypt, seal_plaintext
from event_router.store.retired import RetiredLearners
from event_router.store.sessions import Active, SessionInfo, Sessions
from event_router.store.tokens import ApiToken, Tokens, UnknownToken
from event_router.store.users import DuplicateUser, InvalidUser, Role, UnknownUser, User, Users

__all__ = [
    "Active",
    "ApiToken",
    "AuditLog",
    "Changes",
    "ConsumerRecord",
    "DeadLetter",
    "DuplicateConsumer",
    "DuplicateUser",
    "Entry",
    "ImportResult",
    "InvalidConfig",
    "InvalidUser",
    "Role",
    "SecretsUnreadable",
    "SessionInfo",
    "Sessions",
    "State",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "Tokens",
    "UnknownConsumer",
    "UnknownDeadLetter",
    "UnknownToken",
    "UnknownUser",
    "User",
    "Users",
    "acting_as",
    "database_url",
    "set_actor",
    "store_exists",
]


class Store:
    """One handle on the control-plane database; `Store.open` brings its schema up to date."""

    def __init__(
        self,
        db: Database,
        secret_key: str | None = None,
        destinations: Destinations | None = None,
    ) -> None:
        self._db = db
        self.url = safe_url(db.engine.url)
        self._box = SecretBox(secret_key)
        self.consumers = Consumers(db, self._box, destinations)
        self.identities = Identities(db)
        self.courses = Courses(db)
        self.dead_letters = DeadLetters(db)
        self.users = Users(db)
        self.tokens = Tokens(db)
        self.sessions = Sessions(db)
        self.retired = RetiredLearners(db)
        self.history = History(db)
        self.audit = AuditLog(db)

    @classmethod
    def open(
        cls, url: str, secret_key: str | None = None, destinations: Destinations | None = None
    ) -> Store:
        """Connect and run any pending migrations; StoreUnavailable if that cannot be done.

        Consumers' secrets are encrypted with a key derived from `secret_key`; secrets stored in
        clear by an older version are encrypted now. Without a key the store refuses to read or
        write secrets (tests and tools that touch none need no key). `destinations` is what
        consumer configurations are checked against (default: the environment's
        EVENT_ROUTER_ALLOWED_DESTINATIONS and archive root).
        """
        db = Database.connect(url)
        try:
            db.migrate()
            store = cls(db, secret_key, destinations)
            if secret_key and seal_plaintext(db, store._box):
                db.scrub()
        except BaseException:
            db.dispose()
            raise
        return store

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        """The store the settings name: EVENT_ROUTER_DATABASE_URL, else the home's control.db."""
        store = cls.open(
            database_url(settings),
            settings.resolved_secret(),
            destinations=Destinations.from_settings(settings),
        )
        store.sessions.idle = timedelta(minutes=settings.session_idle_minutes)
        return store

    def reencrypt(self, new_key: str) -> int:
        """Re-encrypt every consumer's secrets under `new_key` (one transaction); rows changed."""
        changed = reencrypt(self._db, self._box, SecretBox(new_key))
        self._db.scrub()
        return changed

    def close(self) -> None:
        self._db.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
