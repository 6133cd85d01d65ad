"""A sample plugin for the router's tests (installed into a temporary site directory)."""

from __future__ import annotations

import uuid
from typing import Any

from event_router.plugins import Hook, Translation

BADGE_VERB = "https://w3id.org/xapi/openbadges/verbs/earned"
ENROLLED_VERB = "https://example.org/verbs/enrolled-by-plugin"
TAG_IRI = "https://example.org/extensions/tagged-by"


def _statement(event: Any, options: Any, verb: str, object_id: str) -> dict[str, Any]:
    actor = options.identity.xapi_actor(event)
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{verb}-{actor.id_text}-{event.timestamp}")),
        "actor": actor.value,
        "verb": {"id": verb, "display": {"en": verb.rsplit("/", 1)[-1]}},
        "object": {"id": object_id, "objectType": "Activity"},
        "timestamp": event.time.isoformat(),
    }


def badge(event: Any, options: Any) -> list[dict[str, Any]]:
    data = event.data if isinstance(event.data, dict) else {}
    return [_statement(event, options, BADGE_VERB, f"https://badges.example.org/{data['badge']}")]


def enrollment(event: Any, options: Any) -> list[dict[str, Any]]:
    course = options.iri("course", event.context["course_id"])
    return [_statement(event, options, ENROLLED_VERB, course)]


def tag(item: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    item.setdefault("context", {}).setdefault("extensions", {})[TAG_IRI] = "sample-plugin"
    return item


def homepage(item: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    account = item.get("actor", {}).get("account")
    if account:
        account["homePage"] = "https://sso.example.org"
    return item


def boom(event: dict[str, Any]) -> dict[str, Any]:
    if isinstance(event.get("data"), dict) and event["data"].get("currentTime") == 13:
        raise RuntimeError("unlucky thirteen")
    return event


def invalid(item: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    if isinstance(event.get("data"), dict) and event["data"].get("currentTime") == 7:
        item["verb"]["id"] = "not an iri"
    return item


def quiet(event: dict[str, Any]) -> dict[str, Any] | None:
    """Drops the events of one user."""
    return None if event.get("context", {}).get("user_id") == 99 else event


BADGES = Translation(events=("sample.badge.earned",), xapi=badge)
ENROLLMENT = Translation(events=("edx.course.enrollment.activated",), xapi=enrollment)
TAG = Hook(after=tag, protocols=("xapi",))
HOMEPAGE = Hook(after=homepage, protocols=("xapi",))
BOOM = Hook(before=boom)
INVALID = Hook(after=invalid)
QUIET = Hook(before=quiet)
