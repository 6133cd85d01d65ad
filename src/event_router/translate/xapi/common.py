"""What every xAPI statement shares: id, actor, timestamp, context, and the builders for objects.

A family module (enrollment, video, ...) describes only what is particular to its events and calls
`statement()`; everything ERB puts in every statement is decided here, once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from event_router.events import TrackingEvent
from event_router.translate.iri import uuid5_text
from event_router.translate.options import Options
from event_router.translate.payload import Json, prune
from event_router.translate.registry import Registry
from event_router.translate.xapi import vocabulary as v

registry = Registry("xapi")

# Marker: "the default course parent" for `statement(context_activities=...)`.
COURSE_PARENT: Json = {}


def statement(
    event: TrackingEvent,
    options: Options,
    verb: v.Verb,
    obj: Json,
    *,
    result: Json | None = None,
    extensions: Json | None = None,
    context_activities: Json | None = COURSE_PARENT,
    child_id: str | None = None,
    parent_id: str | None = None,
    object_pruned: bool = False,
) -> Json:
    """Assemble one statement, with ERB's deterministic id.

    The id is uuid5(uuid5(seed, verb JSON[-child id]), "<actor JSON>-<timestamp>"), exactly ERB's
    recipe, so an operator moving from ERB produces the same ids and the LRS de-duplicates.
    `context_activities` defaults to the course as parent; pass None for none. `child_id` and
    `parent_id` make a fan-out child statement (its own id namespace and a StatementRef).
    `object_pruned` says `obj` is already clean (a `shared` one).
    """
    actor = options.identity.xapi_actor(event)
    namespace = (
        verb.namespace if child_id is None else v.id_namespace(f"{verb.json_text}-{child_id}")
    )
    statement_id = uuid5_text(namespace, f"{actor.id_text}-{event.timestamp}")
    context_extensions: Json = {v.EXT_TRANSFORMER_VERSION: options.transformer_version}
    session = event.session
    if session:
        context_extensions[v.EXT_SESSION_ID] = session
    if extensions:
        context_extensions.update(prune(extensions))
    if context_activities is COURSE_PARENT:
        course = course_activity(event, options, object_type=True)
        context_activities = {"parent": [course]} if course else None
    elif context_activities:
        context_activities = prune(context_activities)
    context: Json = {"extensions": context_extensions}
    if context_activities:
        context["contextActivities"] = context_activities
    if parent_id is not None:
        context["statement"] = {"objectType": "StatementRef", "id": parent_id}
    # Actor and verb are built clean and shared; only the parts families build are pruned.
    out: Json = {
        "id": statement_id,
        "actor": actor.value,
        "verb": verb.value,
        "object": obj if object_pruned else prune(obj),
    }
    if result:
        result = prune(result)
        if result:
            out["result"] = result
    out["context"] = context
    out["timestamp"] = timestamp(event)
    return out


def timestamp(event: TrackingEvent) -> str:
    """The event's time in ISO 8601 with its offset (ERB re-serialises the same way: `Z` becomes
    `+00:00`); the statement id still hashes the text as received, as ERB's does."""
    text = event.timestamp
    # The LMS's usual form is already what isoformat() gives: skip the 5 µs call.
    if len(text) == 32 and text[10] == "T" and text[26] in "+-" and text[20:26] != "000000":
        return text
    return event.time.isoformat()


def activity(
    iri: str,
    activity_type: str | None,
    *,
    name: str | None = None,
    description: str | None = None,
    extensions: Json | None = None,
    language: str = "en-US",
    object_type: str | None = "Activity",
    **definition: Any,
) -> Json:
    """An Activity object; empty parts are dropped by `prune`."""
    return {
        "objectType": object_type,
        "id": iri,
        "definition": {
            "type": activity_type,
            "name": _language_map(language, name),
            "description": _language_map(language, description),
            "extensions": extensions,
            **definition,
        },
    }


def _language_map(language: str, text: Any) -> Json | None:
    """`{language: text}`; numbers become text, anything else that is not text is left out."""
    if type(text) is str:
        return {language: text} if text else None
    if isinstance(text, int | float) and not isinstance(text, bool):
        return {language: str(text)}
    return None


def course_activity(
    event: TrackingEvent, options: Options, *, object_type: bool = False, language: str = "en-US"
) -> Json | None:
    """The event's course as an activity, named from the catalogue when it knows the course.

    Built once per course and shared by every statement (read-only: never mutate it).
    """
    course_id = event.course_id
    if course_id is None:
        return None
    return shared(
        options,
        (course_id, object_type, language),
        lambda: activity(
            options.iri("course", course_id),
            v.COURSE,
            name=options.courses.name(course_id),
            language=language,
            object_type="Activity" if object_type else None,
        ),
    )


def shared(options: Options, key: Hashable, build: Callable[[], Json]) -> Json:
    """`prune(build())`, made once per `key` for these options and shared by every statement
    that needs it (read-only: never mutate it). Bounded: cleared when it grows too large."""
    found: Json | None = options.cache.get(key)
    if found is None:
        found = prune(build())
        if len(options.cache) >= 100_000:
            options.cache.clear()
        options.cache[key] = found
    return found
