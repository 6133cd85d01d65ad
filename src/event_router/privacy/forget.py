"""Forget a learner (the Open edX user-retirement pipeline asks every service to): one
transaction per store, and an answer saying what was removed where.

The control plane loses the learner's identities and the dead letters carrying their events,
and lists their keyed hashes as retired (so sources drop their later events); the journal
redacts their retained events in place (SQLite) or deletes them (Redis). What already left the
router — statements at an LRS, events at a Caliper endpoint, archive files — cannot be recalled
here: see docs/privacy.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from event_router.events import NormaliseError, TrackingEvent, normalise, parse_json
from event_router.journal import Journal
from event_router.privacy.screen import identifiers, retired_key
from event_router.store import Store


class ForgetError(ValueError):
    """A request that names no learner."""


@dataclass(frozen=True, slots=True)
class Learner:
    """The learner to forget, by user id and/or username (both, when known: events may carry
    either)."""

    user_id: str | None
    username: str | None

    @classmethod
    def of(cls, user_id: str | int | None, username: str | None) -> Learner:
        uid = str(user_id).strip() if user_id is not None else ""
        name = (username or "").strip()
        if not uid and not name:
            raise ForgetError("name the learner: a user id, a username, or both")
        return cls(uid or None, name or None)

    @property
    def idents(self) -> set[tuple[str, str]]:
        found = set()
        if self.user_id:
            found.add(("id", self.user_id))
        if self.username:
            found.add(("name", self.username))
        return found

    def keys(self, secret: str) -> list[str]:
        return [retired_key(secret, kind, value) for kind, value in sorted(self.idents)]

    def named_by(self, event: TrackingEvent) -> bool:
        return bool(identifiers(event) & self.idents)

    def in_body(self, body: bytes) -> bool:
        """Whether a journal body names the learner: a quick look for the id or name in the
        bytes first (as written, or JSON-escaped), parsed only when one is there."""
        if not any(needle in body for needle in self._needles()):
            return False
        try:
            return self.named_by(parse_json(body))
        except NormaliseError:
            return False

    def in_json(self, value: Any) -> bool:
        """Whether a decoded event (a dead letter's) names the learner."""
        try:
            return self.named_by(normalise(value))
        except NormaliseError:
            return False

    def _needles(self) -> list[bytes]:
        out = []
        for _, value in self.idents:
            out.append(value.encode())
            out.append(json.dumps(value)[1:-1].encode())  # as an LMS writes non-ASCII text
        return out


def forget_in_store(store: Store, secret: str, learner: Learner) -> dict[str, int]:
    """The control-plane part, one transaction: identities and dead letters removed, the keyed
    hashes retired (running routers drop the learner's later events from their next poll)."""
    return store.retired.forget(
        learner.user_id, learner.username, learner.keys(secret), learner.in_json
    )


def forget_in_journal(journal: Journal | None, learner: Learner) -> dict[str, Any]:
    """The journal part, one transaction: SQLite redacts in place, Redis deletes, Kafka cannot
    (a log is not rewritten: docs/scaling.md), each as its `redact` and `redaction` say."""
    if journal is None:
        return {"kind": None, "events": 0, "action": "no journal yet"}
    events = journal.redact(learner.in_body)
    return {"kind": journal.kind, "events": events, "action": journal.redaction}


def answer(control_plane: dict[str, int], journal: dict[str, Any]) -> dict[str, Any]:
    """What the CLI and the API say: what was removed, per store."""
    return {"forgotten": True, "control_plane": control_plane, "journal": journal}


def forget(store: Store, journal: Journal | None, secret: str, learner: Learner) -> dict[str, Any]:
    """Forget `learner` in the control plane, then in the journal; counts per store. The
    retired list is written first, so events arriving meanwhile are dropped at ingest."""
    control = forget_in_store(store, secret, learner)
    return answer(control, forget_in_journal(journal, learner))
