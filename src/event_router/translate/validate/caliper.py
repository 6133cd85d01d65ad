"""The rules a Caliper 1.2 event must satisfy (see `validate`)."""

from __future__ import annotations

import re
from typing import Any

from event_router.translate.validate.common import is_iri, is_uuid

_CALIPER_TIME = re.compile(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\Z")

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
        isinstance(ident, str) and ident.startswith("urn:uuid:") and is_uuid(ident[9:])
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
