"""Discussion forums: the learner posted, viewed, edited, deleted, reported, unreported or voted on
a thread, a response or a comment.

Example: "Learner 32e08e30… posted http://lms/api/discussion/v1/threads/64abcdfe… ("Another thread
in test topic", a discussion) in course-v1:testX+XAPI101+2019_T2."

The object is the post as the discussion API addresses it: the request path with the post id taken
out, then the post id, so threads live under `…/threads/` and responses and comments under
`…/comments/`. A response or comment names its thread as a grouping activity. Creating a thread
records the thread type, and a vote records its value, in the `acrossx/extensions/type` context
extension, as ERB does.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from event_router.events import TrackingEvent
from event_router.translate.errors import TranslationError
from event_router.translate.options import Options
from event_router.translate.payload import Json, data_of
from event_router.translate.xapi import vocabulary as v
from event_router.translate.xapi.common import (
    COURSE_PARENT,
    activity,
    course_activity,
    registry,
    statement,
)

_VERBS = {
    "edx.forum.thread.created": v.POSTED,
    "edx.forum.response.created": v.POSTED,
    "edx.forum.comment.created": v.POSTED,
    "edx.forum.thread.edited": v.EDITED,
    "edx.forum.response.edited": v.EDITED,
    "edx.forum.comment.edited": v.EDITED,
    "edx.forum.thread.deleted": v.DELETED,
    "edx.forum.response.deleted": v.DELETED,
    "edx.forum.comment.deleted": v.DELETED,
    "edx.forum.thread.reported": v.REPORTED,
    "edx.forum.response.reported": v.REPORTED,
    "edx.forum.comment.reported": v.REPORTED,
    "edx.forum.thread.unreported": v.UNREPORTED,
    "edx.forum.response.unreported": v.UNREPORTED,
    "edx.forum.comment.unreported": v.UNREPORTED,
    "edx.forum.thread.voted": v.VOTED,
    "edx.forum.response.voted": v.VOTED,
    "edx.forum.thread.viewed": v.VIEWED,
}

# Events that say what kind of thread or vote it was: the payload field that carries it.
_TYPE_FIELD = {
    "edx.forum.thread.created": "thread_type",
    "edx.forum.thread.voted": "vote_value",
    "edx.forum.response.voted": "vote_value",
}

# Characters kept as they are in a path segment of an IRI (RFC 3987 ipchar less the escapes, plus
# "/"); anything else is percent-encoded so that an odd id or path still makes a valid IRI.
_PATH_SAFE = "/:@!$&'()*+,;="
_THREADS_PATH = "/api/discussion/v1/threads"


@registry.register(*_VERBS)
def forum_post(event: TrackingEvent, options: Options) -> list[Json]:
    data = data_of(event)
    post_id = _identifier(data.get("id"), "post id (data.id)")
    iri = _post_iri(event, options, post_id)
    post = activity(iri, v.DISCUSSION, name=_text(data.get("title")), language="en")
    field = _TYPE_FIELD.get(event.name)
    extensions = {v.EXT_MODE: data[field]} if field is not None and field in data else None
    return [
        statement(
            event,
            options,
            _VERBS[event.name],
            post,
            extensions=extensions,
            context_activities=_thread_grouping(event, options, data),
        )
    ]


def _post_iri(event: TrackingEvent, options: Options, post_id: str) -> str:
    """`<LMS><request path without the post id>/<post id>`."""
    path = event.context.get("path")
    if not isinstance(path, str) or not path:
        raise TranslationError("forum event has no request path (context.path)")
    base = path.rstrip("/")
    if base.endswith("/" + post_id):  # the usual `…/threads/<id>/`, even for an id holding "/"
        base = base[: -len(post_id) - 1]
    base = "/".join(part for part in base.split("/") if part != post_id).rstrip("/")
    if base and not base.startswith("/"):
        base = "/" + base
    return f"{options.lms_url}{_iri_path(base)}/{_iri_path(post_id)}"


def _thread_grouping(event: TrackingEvent, options: Options, data: Json) -> Json:
    """The thread a response or comment belongs to, as grouping; else the course parent only."""
    discussion = data.get("discussion")
    thread_id = discussion.get("id") if isinstance(discussion, dict) else None
    if not thread_id or isinstance(thread_id, bool) or not isinstance(thread_id, str | int):
        return COURSE_PARENT
    thread = activity(f"{options.lms_url}{_THREADS_PATH}/{_iri_path(str(thread_id))}", v.DISCUSSION)
    course = course_activity(event, options, object_type=True)
    return {"parent": [course] if course else None, "grouping": [thread]}


def _identifier(value: Any, what: str) -> str:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TranslationError(f"forum event has no {what}")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _iri_path(text: str) -> str:
    return quote(text, safe=_PATH_SAFE)
