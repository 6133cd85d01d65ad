"""How a learner appears to a consumer.

ERB identifies learners by an anonymous id per (user, kind) that the LMS keeps (`ExternalId`,
kinds `xapi` and `caliper`). Operators switching from ERB import that table (CSV
`user_id,username,kind,anonymous_id`, optionally `email`) so the same learner keeps the same id and
the same statement ids. A learner not in the table gets a stable anonymous UUID derived from the
router's secret key with HMAC, so the raw user id never leaves the router.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from event_router.events import TrackingEvent

_CACHE_SIZE = 200_000  # learners whose actor is kept ready


class IdentityError(ValueError):
    """An identity table that cannot be read."""


class UnknownLearner(ValueError):
    """The event does not identify its learner well enough for this policy."""


NO_LEARNER = "event names no learner (no user_id or username)"
"""Why an event without a learner is not translated (a guest-learner consumer translates it)."""


class Kind(StrEnum):
    """ERB's external id kinds: a learner has one anonymous id per kind."""

    XAPI = "xapi"
    CALIPER = "caliper"


class Policy(StrEnum):
    """What a consumer learns about the learner. Anonymous unless the consumer opts in."""

    ANONYMOUS = "anonymous"
    USERNAME = "username"
    MBOX = "mbox"
    MBOX_SHA1SUM = "mbox_sha1sum"
    RAW = "raw"  # protocol edx only: the event as received, user ids, ip and agent included


EDX_KIND = "edx"  # the anonymous ids the `edx` protocol shows (derived, never imported)
_EDX_REMOVED = ("ip", "agent")  # request fields an anonymous edx event does not carry


@dataclass(frozen=True, slots=True)
class Learner:
    """Who an event is about, as the event says it: the source of the ids wins as a whole."""

    user_id: str | None
    username: str | None

    @classmethod
    def of(cls, event: TrackingEvent) -> Learner:
        """`data` names the learner acted upon (an instructor may be in `context`), so it wins."""
        return cls(*learner_key(event))


def learner_key(event: TrackingEvent) -> tuple[str | None, str | None]:
    """(user id, username) of the event's learner, from `data` if it names one, else `context`."""
    data = event.data
    if type(data) is dict:
        user_id = _text(data.get("user_id"))
        username = _text(data.get("username"))
        if user_id or username:
            return user_id, username
    context = event.context
    return _text(context.get("user_id")), _text(context.get("username"))


def _text(value: Any) -> str | None:
    kind = type(value)
    if kind is str:
        return value.strip() or None
    if kind is int:
        return str(value)
    return None


@dataclass
class IdentityTable:
    """Anonymous ids (and optionally emails) imported from the LMS."""

    anonymous: dict[tuple[str, str], str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)

    def add(
        self,
        kind: str,
        anonymous_id: str,
        user_id: str | None = None,
        username: str | None = None,
        email: str | None = None,
    ) -> None:
        for key in _keys(user_id, username):
            self.anonymous[(kind, key)] = anonymous_id
            if email:
                self.emails[key] = email

    def anonymous_id(self, kind: str, learner: Learner) -> str | None:
        for key in _keys(learner.user_id, learner.username):
            found = self.anonymous.get((kind, key))
            if found:
                return found
        return None

    def email(self, learner: Learner) -> str | None:
        for key in _keys(learner.user_id, learner.username):
            found = self.emails.get(key)
            if found:
                return found
        return None

    def __len__(self) -> int:
        return len(self.anonymous)

    @classmethod
    def from_csv(cls, path: str | Path) -> IdentityTable:
        """Read `user_id,username,kind,anonymous_id[,email]`; kinds are case-insensitive."""
        table = cls()
        try:
            with open(path, newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                missing = {"user_id", "username", "kind", "anonymous_id"} - set(
                    reader.fieldnames or ()
                )
                if missing:
                    raise IdentityError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
                for line, row in enumerate(reader, start=2):
                    kind = (row.get("kind") or "").strip().lower()
                    if kind not in (Kind.XAPI, Kind.CALIPER):
                        raise IdentityError(f"{path}:{line}: kind must be xapi or caliper")
                    anonymous_id = (row.get("anonymous_id") or "").strip()
                    if not anonymous_id:
                        raise IdentityError(f"{path}:{line}: anonymous_id is empty")
                    table.add(
                        kind,
                        anonymous_id,
                        _text(row.get("user_id")),
                        _text(row.get("username")),
                        (row.get("email") or "").strip() or None,
                    )
        except OSError as exc:
            raise IdentityError(f"{path}: {exc.strerror or exc}") from None
        return table


def _keys(user_id: str | None, username: str | None) -> tuple[str, ...]:
    keys = []
    if user_id:
        keys.append(f"id:{user_id}")
    if username:
        keys.append(f"name:{username}")
    return tuple(keys)


@dataclass(frozen=True, slots=True)
class Actor:
    """An xAPI actor, with the exact JSON text ERB hashes into statement ids."""

    value: dict[str, Any]
    id_text: str


class IdentityPolicy:
    """Resolves the learner of an event into an xAPI actor or a Caliper person id."""

    def __init__(
        self,
        secret_key: str,
        lms_url: str,
        table: IdentityTable | None = None,
        policy: Policy = Policy.ANONYMOUS,
        guests: str | None = None,
        realm: str = "",
    ) -> None:
        self._secret = secret_key.encode()
        self.guests = guests  # the consumer whose guest learners get a per-session actor
        self._lms_url = lms_url
        self.realm = realm  # whose users: "" the default LMS's, else another LMS's (sites)
        self._table = table or IdentityTable()
        self.policy = Policy(policy)
        self._actors: dict[tuple[str | None, str | None], Actor] = {}
        self._people: dict[tuple[str | None, str | None], str] = {}

    def for_site(self, lms_url: str, realm: str) -> IdentityPolicy:
        """This policy for another site: its LMS URL in actors, and, for a site with users of its
        own (`realm`), ids derived within that realm, since the imported table and the user ids
        of the default LMS do not name its learners."""
        table = self._table if not realm else None
        return IdentityPolicy(
            self._secret.decode(), lms_url, table, self.policy, guests=self.guests, realm=realm
        )

    def learner(self, event: TrackingEvent) -> Learner:
        learner = Learner.of(event)
        if learner.user_id is None and learner.username is None:
            raise UnknownLearner(NO_LEARNER)
        return learner

    def for_guests(self, consumer: str) -> IdentityPolicy:
        """This policy, with guest learners (events of no learner, as a learner who is not
        signed in sends) shown as a per-session pseudonym of `consumer`'s own."""
        return IdentityPolicy(
            self._secret.decode(),
            self._lms_url,
            self._table,
            self.policy,
            guests=consumer,
            realm=self.realm,
        )

    def guest_name(self, event: TrackingEvent) -> str | None:
        """The pseudonym of a guest learner's session: a keyed hash of the consumer and the
        session id (stable within the session, unlinkable across consumers); None when this
        policy takes no guests, the event names a learner, or it has no session."""
        if self.guests is None:
            return None
        session = event.session
        if session is None or learner_key(event) != (None, None):
            return None
        subject = f"guest|{self.guests}|{session}".encode()
        digest = hmac.new(self._secret, subject, hashlib.sha256).digest()
        return f"guest-{uuid.UUID(bytes=digest[:16], version=4)}"

    def anonymous_id(self, kind: str, learner: Learner) -> str:
        """The imported id if known, else a UUID keyed on the router's secret (stable, one-way)."""
        found = self._table.anonymous_id(kind, learner)
        if found:
            return found
        subject = f"id:{learner.user_id}" if learner.user_id else f"name:{learner.username}"
        if self.realm:  # user 5 of another LMS is another person than user 5 of the default
            subject = f"{self.realm}|{subject}"
        digest = hmac.new(self._secret, f"{kind}|{subject}".encode(), hashlib.sha256).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    def edx_event(self, event: TrackingEvent) -> dict[str, Any]:
        """The `edx` protocol's output: the normalised event with its learner shown as the
        policy says. `raw` leaves it whole; `username` keeps usernames and drops user ids;
        every other policy replaces both with the learner's anonymous id (kind `edx`). Except
        with `raw`, `ip` and `agent` are removed. Fields are replaced in `context` and in
        `data` (which may name another learner, each getting their own id)."""
        out = event.as_dict()
        if self.policy is Policy.RAW:
            return out
        context = {k: v for k, v in event.context.items() if k not in _EDX_REMOVED}
        out["context"] = self._edx_learner(context)
        data = event.data
        if type(data) is dict and ("user_id" in data or "username" in data):
            out["data"] = self._edx_learner(dict(data))
        return out

    def _edx_learner(self, fields: dict[str, Any]) -> dict[str, Any]:
        user_id, username = _text(fields.get("user_id")), _text(fields.get("username"))
        if user_id is None and username is None:
            return fields
        if self.policy is Policy.USERNAME:
            fields.pop("user_id", None)
            return fields
        pseudonym = self.anonymous_id(EDX_KIND, Learner(user_id, username))
        for key in ("user_id", "username"):
            if key in fields:
                fields[key] = pseudonym
        return fields

    def xapi_actor(self, event: TrackingEvent) -> Actor:
        guest = self.guest_name(event)
        if guest is not None:
            value = {"objectType": "Agent", "account": {"name": guest, "homePage": self._lms_url}}
            return Actor(value, _json(value))
        key = learner_key(event)
        found = self._actors.get(key)
        if found is None:
            found = self._xapi_actor(self.learner(event))
            if len(self._actors) >= _CACHE_SIZE:
                self._actors.clear()  # bounded: a long-running router sees millions of learners
            self._actors[key] = found
        return found

    def caliper_actor_id(self, event: TrackingEvent) -> str:
        guest = self.guest_name(event)
        if guest is not None:
            return f"{self._lms_url}/user/{guest}"
        key = learner_key(event)
        found = self._people.get(key)
        if found is None:
            learner = self.learner(event)
            if self.policy is Policy.USERNAME and learner.username:
                name = learner.username
            else:
                name = self.anonymous_id(Kind.CALIPER, learner)
            found = f"{self._lms_url}/user/{name}"
            if len(self._people) >= _CACHE_SIZE:
                self._people.clear()
            self._people[key] = found
        return found

    def _xapi_actor(self, learner: Learner) -> Actor:
        if self.policy in (Policy.MBOX, Policy.MBOX_SHA1SUM):
            email = self._table.email(learner)
            if not email:
                raise UnknownLearner("no email known for this learner (identity table)")
            mbox = f"mailto:{email}"
            if self.policy is Policy.MBOX:
                return _agent("mbox", mbox)
            return _agent("mbox_sha1sum", hashlib.sha1(_normal_mailto(mbox).encode()).hexdigest())
        if self.policy is Policy.USERNAME:
            if not learner.username:
                raise UnknownLearner("event has no username (identity policy `username`)")
            name = learner.username
        else:
            name = self.anonymous_id(Kind.XAPI, learner)
        account = {"name": name, "homePage": self._lms_url}
        value = {"objectType": "Agent", "account": account}
        return Actor(value, _json(value))


def _normal_mailto(mbox: str) -> str:
    """The spec hashes the mailto IRI with the domain in lower case."""
    local, _, domain = mbox.partition("@")
    return f"{local}@{domain.lower()}" if domain else mbox


def _agent(ifi: str, value: str) -> Actor:
    agent = {"objectType": "Agent", ifi: value}
    return Actor(agent, _json(agent))


def _json(value: dict[str, Any]) -> str:
    """JSON text in the form ERB feeds to uuid5 (Python's json defaults: ', ' and ': ')."""
    return json.dumps(value)
