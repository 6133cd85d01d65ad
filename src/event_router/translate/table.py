"""Translations as data: one row per event name, read by one engine for both protocols.

The families in `translate/families/` (ERB's and the newer ones) are tables of `Row`s: the xAPI
verb and activity type, the Caliper event type and action, and small builders for what differs
(which object, which result, which context). Adding an event is adding a row; the engine below
assembles the statement (`xapi.common.statement`) and the Caliper event (`caliper_event`), so
ids, actor, context and timestamps stay alike everywhere. An event no row of fields can describe
(`problem_check`: browser or server, one statement per question) names its builders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin

from event_router.events import TrackingEvent
from event_router.translate.caliper.common import caliper_event
from event_router.translate.caliper.common import registry as caliper_registry
from event_router.translate.errors import TranslationError
from event_router.translate.iri import block_iri, iri_safe
from event_router.translate.options import Options
from event_router.translate.payload import Json, referer_block_id
from event_router.translate.payload import identifier as payload_identifier
from event_router.translate.samples import SAMPLES, Sample
from event_router.translate.xapi import vocabulary as v

# Re-exported (`x as x`): what the builders of ERB's families assemble objects and statements
# with, xAPI's own so they look alike everywhere; family modules take them from here.
from event_router.translate.xapi.common import COURSE_PARENT as COURSE_PARENT
from event_router.translate.xapi.common import activity as activity
from event_router.translate.xapi.common import course_activity as course_activity
from event_router.translate.xapi.common import registry as xapi_registry
from event_router.translate.xapi.common import shared as shared
from event_router.translate.xapi.common import statement as statement


@dataclass(frozen=True, slots=True)
class Target:
    """What an event is about: an IRI, with a name when the event gives one."""

    iri: str
    name: str | None = None


# Builders a row is made of. Each gets the event, the options and the payload (always an object).
TargetFn = Callable[[TrackingEvent, Options, Json], Target]
PartFn = Callable[[Json], Json | None]
ContextFn = Callable[[TrackingEvent, Options, Json], Json | None]
# A whole translation, for the events one row of fields cannot describe (several statements).
Build = Callable[[TrackingEvent, Options], list[Json]]
# The whole object of a statement or Caliper event, of the row's activity or entity type.
ObjectFn = Callable[[TrackingEvent, Options, Json, str], Json]


@dataclass(frozen=True, slots=True)
class Caliper:
    """The Caliper side of a row: event type, action, the object's entity type, and optionally
    `generated` (built from the payload and the object's IRI) and event extensions; `obj` builds
    the whole object when an IRI and a name are not enough (ERB's VideoObject has a duration, its
    CourseOffering the mode), `target` the event's `target` (a video's MediaLocation), and
    `about` names the object when it is not the row's xAPI target (ERB's problem solution)."""

    type: str
    action: str | Callable[[Json], str]
    entity: str
    generated: Callable[[Json, str], Json | None] | None = None
    extensions: PartFn | None = None
    about: TargetFn | None = None  # what the object is, when Caliper's differs from xAPI's
    # The events, built by code (problem_check: browser or server); the fields above then
    # document them.
    events: Build | None = None
    obj: ObjectFn | None = None  # the whole object, when an IRI and a name are not enough
    target: PartFn | None = None  # the event's `target` (a video's MediaLocation)


@dataclass(frozen=True, slots=True)
class Row:
    """One event: its xAPI verb and activity type, the object, and what result and context
    extensions it carries; `caliper` when Caliper 1.2 has a fitting event.

    For ERB's families: `check` runs first in both protocols (refusing what ERB's output cannot
    be made of), `obj` builds the whole xAPI object, clean (`prune`d or `shared`), when an IRI
    and a name are not enough (`target` then only says what the event is about), and
    `context_activities=no_context_activities` leaves out the course ERB leaves out (when it is
    the object)."""

    name: str
    verb: v.Verb | Callable[[Json], v.Verb]
    activity_type: str
    target: TargetFn
    result: PartFn | None = None
    extensions: PartFn | None = None
    caliper: Caliper | None = None
    language: str = "en-US"  # of the activity's name (ERB names some objects in "en")
    activity_extensions: PartFn | None = None  # the activity definition's extensions
    # The context activities (default: the course as parent, which `COURSE_PARENT` also says).
    context_activities: ContextFn | None = None
    # The statements, built by code, for an event no row of fields describes (problem_check:
    # browser or server, one statement per question); the fields above then document it.
    statements: Build | None = None
    check: Callable[[TrackingEvent], object] | None = None  # refuses an incomplete event
    obj: ObjectFn | None = None  # the whole xAPI object, when an IRI and a name are not enough


def no_context_activities(event: TrackingEvent, options: Options, data: Json) -> Json | None:
    """No context activities: ERB leaves the course out of a statement about the course."""
    return None


def payload(event: TrackingEvent) -> Json:
    """The payload as an object. Several xblock events carry none (`null`) and a few browser
    events carry a form or a list; rows read those from `event.data` themselves, and a row whose
    field is missing refuses the event naming that field."""
    data = event.data
    return data if isinstance(data, dict) else {}


def xapi_translation(row: Row) -> Callable[[TrackingEvent, Options], list[Json]]:
    if row.statements is not None:
        return row.statements
    # The row's parts, looked up once here rather than on every event (the hot path).
    check, build, target, kind = row.check, row.obj, row.target, row.activity_type
    result_of, extensions_of, verb_of = row.result, row.extensions, row.verb
    language, definition, context_of = row.language, row.activity_extensions, row.context_activities

    def translate(event: TrackingEvent, options: Options) -> list[Json]:
        if check is not None:
            check(event)
        data = payload(event)
        if build is not None:
            obj = build(event, options, data, kind)
        else:
            found = target(event, options, data)
            obj = activity(
                found.iri,
                kind,
                name=found.name,
                extensions=definition(data) if definition else None,
                language=language,
            )
        result = result_of(data) if result_of else None
        extensions = extensions_of(data) if extensions_of else None
        context = COURSE_PARENT if context_of is None else context_of(event, options, data)
        verb = verb_of if isinstance(verb_of, v.Verb) else verb_of(data)
        return [
            statement(
                event,
                options,
                verb,
                obj,
                result=result,
                extensions=extensions,
                context_activities=context,
                object_pruned=build is not None,
            )
        ]

    translate.__name__ = f"xapi_{row.name}"
    return translate


def caliper_translation(row: Row) -> Callable[[TrackingEvent, Options], list[Json]]:
    spec = row.caliper
    assert spec is not None
    if spec.events is not None:
        return spec.events
    check, target, entity, build = row.check, spec.about or row.target, spec.entity, spec.obj
    event_type, action_of, generated, where, extensions_of = (
        spec.type,
        spec.action,
        spec.generated,
        spec.target,
        spec.extensions,
    )

    def translate(event: TrackingEvent, options: Options) -> list[Json]:
        if check is not None:
            check(event)
        data = payload(event)
        obj: Json
        if build is not None:
            obj = build(event, options, data, entity)
        else:
            found = target(event, options, data)
            obj = {"id": found.iri, "type": entity, "name": found.name}
        action = action_of if isinstance(action_of, str) else action_of(data)
        extra: Json = {}
        if generated is not None:
            extra["generated"] = generated(data, obj["id"])
        if where is not None:
            extra["target"] = where(data)
        out = caliper_event(event, options, event_type, action, obj, **extra)
        if extensions_of is not None:
            more = {k: x for k, x in (extensions_of(data) or {}).items() if x is not None}
            if more:
                out["extensions"].update(more)
        return [out]

    translate.__name__ = f"caliper_{row.name}"
    return translate


def register(rows: Iterable[Row], samples: Mapping[str, Sample]) -> None:
    """Register every row's xAPI translation, and its Caliper one where it has one, and the
    family's sample events; a row without a sample (or a sample without a row) is a bug."""
    rows = list(rows)
    names = {row.name for row in rows}
    if names != set(samples):
        missing, extra = sorted(names - set(samples)), sorted(set(samples) - names)
        raise ValueError(f"rows without a sample: {missing}; samples without a row: {extra}")
    SAMPLES.update(samples)
    for row in rows:
        xapi_registry.register(row.name)(xapi_translation(row))
        if row.caliper is not None:
            caliper_registry.register(row.name)(caliper_translation(row))


def register_prefix(row: Row) -> None:
    """Register the row for every event name that starts with `row.name`."""
    xapi_registry.register_prefix(row.name, xapi_translation(row))
    if row.caliper is not None:
        caliper_registry.register_prefix(row.name, caliper_translation(row))


# --- Targets: the objects events are about ---------------------------------------------------


def text(data: Json, key: str) -> str | None:
    """A non-blank string field, else None."""
    value = data.get(key)
    return value if isinstance(value, str) and value.strip() else None


def identifier(data: Json, key: str) -> str:
    """A required id field: a non-blank string or an integer, else the event is refused."""
    return payload_identifier(data.get(key), f"{key} in its data")


def number(data: Json, key: str) -> int | float | None:
    """A numeric field (not a boolean), else None."""
    value = data.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return None


def module_key(event: TrackingEvent) -> str | None:
    """The usage key of the xblock that emitted a server event (`context.module.usage_key`)."""
    module = event.context.get("module")
    if isinstance(module, dict):
        key = module.get("usage_key")
        if isinstance(key, str) and key.strip():
            return key
    return None


def module_name(event: TrackingEvent) -> str | None:
    module = event.context.get("module")
    if isinstance(module, dict):
        name = module.get("display_name")
        return name if isinstance(name, str) else None
    return None


def xblock(*keys: str) -> TargetFn:
    """The xblock named by the first of `keys` in the payload, else the emitting module."""

    def target(event: TrackingEvent, options: Options, data: Json) -> Target:
        for key in keys:
            found = text(data, key)
            if found is not None:
                return Target(iri_safe(block_iri(options, found)))
        usage_key = module_key(event)
        if usage_key is None:  # a browser event: the block the page was opened at
            usage_key = referer_block_id(event.context.get("referer"))
            if usage_key is not None:
                return Target(iri_safe(block_iri(options, usage_key)))
        if usage_key is None:
            wanted = " or ".join((*keys, "context.module.usage_key", "activate_block_id"))
            raise TranslationError(f"event names no block ({wanted})")
        return Target(iri_safe(block_iri(options, usage_key)), module_name(event))

    return target


def course(event: TrackingEvent, options: Options, data: Json) -> Target:
    """The event's course (the context's, else the payload's `course_id`)."""
    course_id = event.course_id or text(data, "course_id")
    if course_id is None:
        raise TranslationError("event has no course_id")
    return Target(options.iri("course", course_id), options.courses.name(course_id))


def lms_path(key: str) -> TargetFn:
    """A page of the LMS: the payload's path or URL `key`, resolved against the LMS root."""

    def target(event: TrackingEvent, options: Options, data: Json) -> Target:
        found = text(data, key)
        if found is None:
            raise TranslationError(f"event data has no {key}")
        return Target(iri_safe(urljoin(options.lms_url + "/", found)))

    return target


def request_page(event: TrackingEvent, options: Options, data: Json) -> Target:
    """The page the request was for: the context's `path` (server) or the referer (browser)."""
    path = event.context.get("path")
    if event.context.get("event_source") != "server" or not isinstance(path, str) or not path:
        path = event.context.get("referer") or event.context.get("page")
    if not isinstance(path, str) or not path.strip():
        raise TranslationError("event names no page (context.path or referer)")
    return Target(iri_safe(urljoin(options.lms_url + "/", path)))


def kind_in_course(kind: str, key: str, name_key: str = "") -> TargetFn:
    """`<LMS>/course/<course id>/<kind>/<payload[key]>`: a course's team, cohort, tool, ...;
    named by the payload's `name_key`."""

    def target(event: TrackingEvent, options: Options, data: Json) -> Target:
        course_id = event.course_id or text(data, "course_id")
        ident = identifier(data, key)
        name = text(data, name_key) if name_key else None
        if course_id is None:
            return Target(options.iri(kind, ident), name)
        return Target(options.iri("course", f"{course_id}/{kind}/{ident}"), name)

    return target


# --- Parts of results and extensions ---------------------------------------------------------


def extensions(**fields: str) -> PartFn:
    """Context extensions: IRI → the payload field of that name (absent fields dropped)."""

    def part(data: Json) -> Json | None:
        return {iri: data.get(key) for key, iri in fields.items()}

    return part


def result_extensions(**fields: str) -> PartFn:
    def part(data: Json) -> Json | None:
        return {"extensions": {iri: data.get(key) for key, iri in fields.items()}}

    return part


def response(key: str) -> PartFn:
    """`result.response`: the payload's `key` as text (JSON numbers and booleans written out)."""

    def part(data: Json) -> Json | None:
        value = data.get(key)
        if isinstance(value, bool):
            return {"response": "true" if value else "false"}
        if isinstance(value, int | float | str):
            return {"response": str(value)}
        return None

    return part


def score(raw_key: str, max_key: str) -> PartFn:
    """`result.score` from two payload numbers, valid whatever they are: `max` only when above
    0 and at least `raw`, `scaled` capped to -1..1."""

    def part(data: Json) -> Json | None:
        raw, top = number(data, raw_key), number(data, max_key)
        if raw is None:
            return None
        out: Json = {"raw": raw}
        if raw >= 0:
            out["min"] = 0
        if top is not None and top > 0 and top >= raw:
            out["max"] = top
        if top is not None and top > 0:
            out["scaled"] = max(-1.0, min(1.0, raw / top))
        return {"score": out}

    return part


def combine(*parts: PartFn) -> PartFn:
    """Several parts merged into one result (later parts win on a clash)."""

    def part(data: Json) -> Json | None:
        out: Json = {}
        for one in parts:
            found = one(data)
            if found:
                for key, value in found.items():
                    if isinstance(value, dict) and isinstance(out.get(key), dict):
                        out[key] = {**out[key], **value}
                    else:
                        out[key] = value
        return out or None

    return part
