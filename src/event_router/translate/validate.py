"""Fast checks of the rules an xAPI 1.0.3 statement and a Caliper 1.2 event must satisfy.

Pure functions over the JSON values the translators produce, returning the list of reasons a
receiver would reject the item for (empty when it is fine). No schema engine and no models: a
consumer can afford them on every item before sending, to dead-letter a bad statement locally
instead of losing a whole batch at an LRS (xAPI batches are all-or-nothing).

Covered: required properties, ids (UUIDs, `urn:uuid:`), IRIs, the actor's single inverse
functional identifier, language maps, score bounds (min < max, raw within, scaled in -1..1),
result types and durations, context activities and extension keys, ISO 8601 timestamps
(Caliper: `YYYY-MM-DDTHH:mm:ss.SSSZ`), no null values, Caliper event types and the actions each
allows, and entities with an IRI id and a type.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from event_router.translate.iri import iri_safe

_UUID = re.compile(
    r"\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}\Z"
)
_SCHEME = re.compile(r"\A[A-Za-z][A-Za-z0-9+.-]*:")
_SHA1 = re.compile(r"\A[0-9a-f]{40}\Z")
_LANGUAGE = re.compile(r"\A[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*\Z")
_DURATION = re.compile(
    r"\AP(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?\Z"
)
_VERSION = re.compile(r"\A1\.0\.\d+\Z")
_CALIPER_TIME = re.compile(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\Z")

_STATEMENT_KEYS = frozenset(
    {"id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority",
     "version", "attachments", "objectType"}
)  # fmt: skip
_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
_CONTEXT_ACTIVITY_KEYS = frozenset({"parent", "grouping", "category", "other"})

CALIPER_CONTEXT = "http://purl.imsglobal.org/ctx/caliper/v1p2"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Caliper 1.2: the actions each event type allows (`Event`, the generic type, takes any action).
CALIPER_ACTIONS: dict[str, frozenset[str]] = {
    name: _words(actions)
    for name, actions in {
        "AnnotationEvent": "Bookmarked Highlighted Shared Tagged",
        "AssessmentEvent": "Started Paused Resumed Restarted Reset Submitted",
        "AssessmentItemEvent": "Started Skipped Completed",
        "AssignableEvent": "Activated Deactivated Started Completed Submitted Reviewed",
        "FeedbackEvent": "Commented Ranked",
        "ForumEvent": "Subscribed Unsubscribed",
        "GradeEvent": "Graded",
        "MediaEvent": "Started Ended Paused Resumed Restarted ForwardedTo JumpedTo "
        "ChangedResolution ChangedSize ChangedSpeed ChangedVolume EnabledClosedCaptioning "
        "DisabledClosedCaptioning EnteredFullScreen ExitedFullScreen Muted Unmuted OpenedPopout "
        "ClosedPopout",
        "MessageEvent": "Posted MarkedAsRead MarkedAsUnread",
        "NavigationEvent": "NavigatedTo",
        "QuestionnaireEvent": "Started Submitted",
        "QuestionnaireItemEvent": "Started Skipped Completed",
        "ResourceManagementEvent": "Archived Copied Created Deleted Described Downloaded "
        "Modified Printed Published Restored Retrieved Saved Unpublished Uploaded",
        "SearchEvent": "Searched",
        "SessionEvent": "LoggedIn LoggedOut TimedOut",
        "SurveyEvent": "OptedIn OptedOut",
        "SurveyInvitationEvent": "Accepted Declined Sent",
        "ThreadEvent": "MarkedAsRead MarkedAsUnread",
        "ToolLaunchEvent": "Launched Returned",
        "ToolUseEvent": "Used",
        "ViewEvent": "Viewed",
    }.items()
}
# Every Caliper 1.2 action (the `Action` term list), which the generic `Event` may carry.
_ALL_ACTIONS = _words(
    "Abandoned Accepted Activated Added Archived Attached Bookmarked ChangedResolution "
    "ChangedSize ChangedSpeed ChangedVolume Classified ClosedPopout Commented Completed Copied "
    "Created Deactivated Declined Deleted Described DisabledClosedCaptioning Disliked Downloaded "
    "EnabledClosedCaptioning Ended EnteredFullScreen ExitedFullScreen ForwardedTo Graded Hid "
    "Highlighted Identified JumpedTo Launched Liked Linked LoggedIn LoggedOut MarkedAsRead "
    "MarkedAsUnread Modified Muted NavigatedTo OpenedPopout OptedIn OptedOut Paused Posted "
    "Printed Published Questioned Ranked Recommended Removed Reset Restarted Restored Resumed "
    "Retrieved Returned Reviewed Rewound Saved Searched Sent Shared Showed Skipped Started "
    "Submitted Subscribed Tagged TimedOut Unmuted Unpublished Unsubscribed Uploaded Used "
    "Viewed"
)
CALIPER_ACTIONS["Event"] = _ALL_ACTIONS
_ENTITY_PROPERTIES = (
    "actor", "object", "target", "generated", "referrer", "edApp", "group", "membership",
    "session", "federatedSession",
)  # fmt: skip
_CALIPER_TIMES = frozenset(
    {"eventTime", "dateCreated", "dateModified", "datePublished", "dateToActivate",
     "dateToShow", "dateToStartOn", "dateToSubmit", "startedAtTime", "endedAtTime", "sendTime"}
)  # fmt: skip


def is_iri(value: Any) -> bool:
    """An absolute IRI: a scheme, and only characters an IRI may hold."""
    return (
        isinstance(value, str)
        and _SCHEME.match(value) is not None
        and " " not in value
        and iri_safe(value) == value
    )


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- xAPI ------------------------------------------------------------------------------------


def xapi_problems(statement: Any) -> list[str]:
    """Why an LRS would reject `statement` (xAPI 1.0.3); empty when it is valid."""
    if not isinstance(statement, dict):
        return [f"a statement is a JSON object, not {type(statement).__name__}"]
    out: list[str] = []
    _no_nulls(statement, "$", out)
    for key in statement:
        if key not in _STATEMENT_KEYS:
            out.append(f"$.{key}: not an xAPI statement property")
    for key in ("actor", "verb", "object"):
        if key not in statement:
            out.append(f"$.{key}: required")
    if "id" in statement and not _is_uuid(statement["id"]):
        out.append("$.id: not a UUID")
    if "version" in statement and not _VERSION.match(str(statement["version"])):
        out.append("$.version: must be 1.0.x")
    if "timestamp" in statement:
        _timestamp(statement["timestamp"], "$.timestamp", out)
    if isinstance(statement.get("actor"), dict):
        _agent(statement["actor"], "$.actor", out)
    elif "actor" in statement:
        out.append("$.actor: not an object")
    verb = statement.get("verb")
    if isinstance(verb, dict):
        if not is_iri(verb.get("id")):
            out.append("$.verb.id: not an IRI")
        if "display" in verb:
            _language_map(verb["display"], "$.verb.display", out)
    elif "verb" in statement:
        out.append("$.verb: not an object")
    obj = statement.get("object")
    if isinstance(obj, dict):
        _object(obj, "$.object", out)
    elif "object" in statement:
        out.append("$.object: not an object")
    if "result" in statement:
        _result(statement["result"], out)
    if "context" in statement:
        activity = not isinstance(obj, dict) or obj.get("objectType", "Activity") == "Activity"
        _context(statement["context"], activity, out)
    return out


def _no_nulls(value: Any, path: str, out: list[str]) -> None:
    """No null and no empty object outside extensions (xAPI 1.0.3 §2.2); extension values are
    free (only their keys are checked)."""
    if isinstance(value, dict):
        if not value:
            out.append(f"{path}: empty object")
        for key, item in value.items():
            if item is None:
                out.append(f"{path}.{key}: null")
            elif key != "extensions":
                _no_nulls(item, f"{path}.{key}", out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _no_nulls(item, f"{path}[{index}]", out)


def _is_uuid(value: Any) -> bool:
    return isinstance(value, str) and _UUID.match(value) is not None


def _timestamp(value: Any, path: str, out: list[str]) -> None:
    if not isinstance(value, str):
        out.append(f"{path}: not a string")
        return
    try:  # a time zone is recommended, not required (xAPI 1.0.3 §4.5: SHOULD*)
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        out.append(f"{path}: not an ISO 8601 timestamp")


def _language_map(value: Any, path: str, out: list[str]) -> None:
    if not isinstance(value, dict) or not value:
        out.append(f"{path}: not a language map")
        return
    for tag, text in value.items():
        if not _LANGUAGE.match(tag) or not isinstance(text, str):
            out.append(f"{path}.{tag}: not a language tag with a string")


def _agent(agent: dict[str, Any], path: str, out: list[str]) -> None:
    kind = agent.get("objectType", "Agent")
    if kind not in ("Agent", "Group"):
        out.append(f"{path}.objectType: {kind!r} is neither Agent nor Group")
    ifis = [key for key in _IFIS if key in agent]
    if kind == "Group" and not ifis:
        if not isinstance(agent.get("member"), list) or not agent["member"]:
            out.append(f"{path}: an anonymous group needs members")
        return
    if len(ifis) != 1:
        out.append(f"{path}: needs exactly one of {', '.join(_IFIS)} (has {len(ifis)})")
    if "mbox" in agent and not (
        isinstance(agent["mbox"], str) and agent["mbox"].startswith("mailto:")
    ):
        out.append(f"{path}.mbox: not a mailto IRI")
    if "mbox_sha1sum" in agent and not _SHA1.match(str(agent["mbox_sha1sum"])):
        out.append(f"{path}.mbox_sha1sum: not a hex SHA-1")
    if "openid" in agent and not is_iri(agent["openid"]):
        out.append(f"{path}.openid: not an IRI")
    if "account" in agent:
        account = agent["account"]
        if not isinstance(account, dict) or not is_iri(account.get("homePage")):
            out.append(f"{path}.account.homePage: not an IRI")
        elif not isinstance(account.get("name"), str) or not account["name"]:
            out.append(f"{path}.account.name: required")


def _object(obj: dict[str, Any], path: str, out: list[str]) -> None:
    kind = obj.get("objectType", "Activity")
    if kind in ("Agent", "Group"):
        _agent(obj, path, out)
    elif kind == "StatementRef":
        if not _is_uuid(obj.get("id")):
            out.append(f"{path}.id: not a UUID")
    elif kind == "Activity":
        _activity(obj, path, out)
    elif kind != "SubStatement":
        out.append(f"{path}.objectType: {kind!r} is no xAPI object type")


def _activity(activity: Any, path: str, out: list[str]) -> None:
    if not isinstance(activity, dict):
        out.append(f"{path}: not an object")
        return
    if activity.get("objectType", "Activity") != "Activity":
        out.append(f"{path}.objectType: must be Activity")
    if not is_iri(activity.get("id")):
        out.append(f"{path}.id: not an IRI")
    definition = activity.get("definition")
    if definition is None:
        return
    if not isinstance(definition, dict):
        out.append(f"{path}.definition: not an object")
        return
    if "type" in definition and not is_iri(definition["type"]):
        out.append(f"{path}.definition.type: not an IRI")
    for key in ("name", "description"):
        if key in definition:
            _language_map(definition[key], f"{path}.definition.{key}", out)
    _extension_keys(definition.get("extensions"), f"{path}.definition.extensions", out)


def _extension_keys(extensions: Any, path: str, out: list[str]) -> None:
    if extensions is None:
        return
    if not isinstance(extensions, dict):
        out.append(f"{path}: not an object")
        return
    for key in extensions:
        if not is_iri(key):
            out.append(f"{path}: key {key!r} is not an IRI")


def _result(result: Any, out: list[str]) -> None:
    if not isinstance(result, dict):
        out.append("$.result: not an object")
        return
    for key in ("success", "completion"):
        if key in result and not isinstance(result[key], bool):
            out.append(f"$.result.{key}: not a boolean")
    if "response" in result and not isinstance(result["response"], str):
        out.append("$.result.response: not a string")
    if "duration" in result and not (
        isinstance(result["duration"], str) and _DURATION.match(result["duration"])
    ):
        out.append("$.result.duration: not an ISO 8601 duration")
    _extension_keys(result.get("extensions"), "$.result.extensions", out)
    score = result.get("score")
    if score is None:
        return
    if not isinstance(score, dict):
        out.append("$.result.score: not an object")
        return
    for key, value in score.items():
        if key not in ("scaled", "raw", "min", "max") or not _number(value):
            out.append(f"$.result.score.{key}: not a score number")
            return
    low, high, raw = score.get("min"), score.get("max"), score.get("raw")
    if "scaled" in score and not -1 <= score["scaled"] <= 1:
        out.append("$.result.score.scaled: outside -1..1")
    if low is not None and high is not None and not low < high:
        out.append("$.result.score: min must be less than max")
    if raw is not None and low is not None and raw < low:
        out.append("$.result.score.raw: below min")
    if raw is not None and high is not None and raw > high:
        out.append("$.result.score.raw: above max")


def _context(context: Any, object_is_activity: bool, out: list[str]) -> None:
    if not isinstance(context, dict):
        out.append("$.context: not an object")
        return
    if "registration" in context and not _is_uuid(context["registration"]):
        out.append("$.context.registration: not a UUID")
    if not object_is_activity:
        for key in ("revision", "platform"):
            if key in context:
                out.append(f"$.context.{key}: only when the object is an Activity")
    if "language" in context and not _LANGUAGE.match(str(context["language"])):
        out.append("$.context.language: not a language tag")
    statement = context.get("statement")
    if statement is not None and not (
        isinstance(statement, dict)
        and statement.get("objectType") == "StatementRef"
        and _is_uuid(statement.get("id"))
    ):
        out.append("$.context.statement: not a StatementRef")
    _extension_keys(context.get("extensions"), "$.context.extensions", out)
    activities = context.get("contextActivities")
    if activities is None:
        return
    if not isinstance(activities, dict):
        out.append("$.context.contextActivities: not an object")
        return
    for key, value in activities.items():
        path = f"$.context.contextActivities.{key}"
        if key not in _CONTEXT_ACTIVITY_KEYS:
            out.append(f"{path}: not parent, grouping, category or other")
            continue
        for index, item in enumerate(value if isinstance(value, list) else [value]):
            _activity(item, f"{path}[{index}]", out)


# --- Caliper ---------------------------------------------------------------------------------


def caliper_problems(event: Any) -> list[str]:
    """Why a Caliper 1.2 endpoint would reject `event`; empty when it is valid."""
    if not isinstance(event, dict):
        return [f"an event is a JSON object, not {type(event).__name__}"]
    out: list[str] = []
    _caliper_nulls(event, "$", out)
    for key in ("@context", "id", "type", "actor", "action", "object", "eventTime"):
        if key not in event:
            out.append(f"$.{key}: required")
    if "@context" in event and event["@context"] != CALIPER_CONTEXT:
        out.append(f"$.@context: must be {CALIPER_CONTEXT}")
    ident = event.get("id")
    if "id" in event and not (
        isinstance(ident, str) and ident.startswith("urn:uuid:") and _is_uuid(ident[9:])
    ):
        out.append("$.id: not a urn:uuid: UUID")
    kind = event.get("type")
    allowed = CALIPER_ACTIONS.get(kind) if isinstance(kind, str) else None
    if "type" in event and allowed is None:
        out.append(f"$.type: {kind!r} is no Caliper 1.2 event type")
    elif allowed is not None and "action" in event and event["action"] not in allowed:
        out.append(f"$.action: a {kind} allows no {event['action']!r}")
    for key in _ENTITY_PROPERTIES:
        value = event.get(key)
        # ERB's GradeEvent `generated` wraps the Score (`{"score": {...}}`); the 1.2 schemas
        # accept it, so only what claims to be an entity, and the actor and object, are checked.
        if (
            key in ("actor", "object")
            or (isinstance(value, dict) and ("id" in value or "type" in value))
            or isinstance(value, str)
        ):
            _entity(value, f"$.{key}", out)
    if "extensions" in event and not isinstance(event["extensions"], dict):
        out.append("$.extensions: not an object")
    _caliper_times(event, "$", out)
    return out


def _caliper_nulls(value: Any, path: str, out: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if item is None:
                out.append(f"{path}.{key}: null")
            else:
                _caliper_nulls(item, f"{path}.{key}", out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _caliper_nulls(item, f"{path}[{index}]", out)


def _entity(value: Any, path: str, out: list[str]) -> None:
    """An entity: its IRI, or an object with an IRI (or blank node) `id` and a `type`."""
    if isinstance(value, str):
        if not is_iri(value):
            out.append(f"{path}: not an IRI")
        return
    if not isinstance(value, dict):
        out.append(f"{path}: neither an IRI nor an entity")
        return
    ident = value.get("id")
    if not (is_iri(ident) or (isinstance(ident, str) and ident.startswith("_:"))):
        out.append(f"{path}.id: not an IRI")
    if not isinstance(value.get("type"), str) or not value["type"]:
        out.append(f"{path}.type: required")
    for key, item in value.items():
        if isinstance(item, dict) and "id" in item and "type" in item and key != "extensions":
            _entity(item, f"{path}.{key}", out)


def _caliper_times(value: Any, path: str, out: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _CALIPER_TIMES and not (isinstance(item, str) and _CALIPER_TIME.match(item)):
                out.append(f"{path}.{key}: not YYYY-MM-DDTHH:mm:ss.SSSZ")
            elif isinstance(item, dict | list):
                _caliper_times(item, f"{path}.{key}", out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _caliper_times(item, f"{path}[{index}]", out)


def problems(protocol: str, item: Any) -> list[str]:
    """The reasons `item` is invalid in `protocol` (`xapi` or `caliper`)."""
    return xapi_problems(item) if protocol == "xapi" else caliper_problems(item)
