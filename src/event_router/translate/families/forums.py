"""Discussion forums (ERB's family): the learner posted, viewed, edited, deleted, reported,
unreported or voted on a thread, a response or a comment.

Example: "Learner 32e08e30… posted http://lms/api/discussion/v1/threads/64abcdfe… ("Another thread
in test topic", a discussion) in course-v1:testX+XAPI101+2019_T2."

The object is the post as the discussion API addresses it: the request path with the post id taken
out, then the post id, so threads live under `…/threads/` and responses and comments under
`…/comments/`. A response or comment names its thread as a grouping activity. Creating a thread
records the thread type, and a vote records its value, in the `acrossx/extensions/type` context
extension, as ERB does. Caliper: ERB has none for these events.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from event_router.events import TrackingEvent
from event_router.translate.errors import TranslationError
from event_router.translate.options import Options
from event_router.translate.payload import Json, data_of, text
from event_router.translate.samples import About, Sample, hex_id
from event_router.translate.table import (
    COURSE_PARENT,
    PartFn,
    Row,
    Target,
    activity,
    course_activity,
    register,
)
from event_router.translate.xapi import vocabulary as v

# Characters kept as they are in a path segment of an IRI (RFC 3987 ipchar less the escapes, plus
# "/"); anything else is percent-encoded so that an odd id or path still makes a valid IRI.
_PATH_SAFE = "/:@!$&'()*+,;="
_THREADS_PATH = "/api/discussion/v1/threads"


def post(event: TrackingEvent, options: Options, data: Json) -> Target:
    """`<LMS><request path without the post id>/<post id>`, named by the post's title."""
    data = data_of(event)
    post_id = _identifier(data.get("id"), "post id (data.id)")
    path = event.context.get("path")
    if not isinstance(path, str) or not path:
        raise TranslationError("forum event has no request path (context.path)")
    base = path.rstrip("/")
    if base.endswith("/" + post_id):  # the usual `…/threads/<id>/`, even for an id holding "/"
        base = base[: -len(post_id) - 1]
    base = "/".join(part for part in base.split("/") if part != post_id).rstrip("/")
    if base and not base.startswith("/"):
        base = "/" + base
    iri = f"{options.lms_url}{_iri_path(base)}/{_iri_path(post_id)}"
    return Target(iri, text(data.get("title")))


def thread_grouping(event: TrackingEvent, options: Options, data: Json) -> Json | None:
    """The thread a response or comment belongs to, as grouping; else the course parent only."""
    discussion = data.get("discussion")
    thread_id = discussion.get("id") if isinstance(discussion, dict) else None
    if not thread_id or isinstance(thread_id, bool) or not isinstance(thread_id, str | int):
        return COURSE_PARENT
    thread = activity(f"{options.lms_url}{_THREADS_PATH}/{_iri_path(str(thread_id))}", v.DISCUSSION)
    course = course_activity(event, options, object_type=True)
    return {"parent": [course] if course else None, "grouping": [thread]}


def kind_of(key: str) -> PartFn:
    """What kind of thread or vote it was (the payload's `key`), when the payload says."""

    def part(data: Json) -> Json | None:
        return {v.EXT_MODE: data[key]} if key in data else None

    return part


def _identifier(value: Any, what: str) -> str:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TranslationError(f"forum event has no {what}")


def _iri_path(path: str) -> str:
    return quote(path, safe=_PATH_SAFE)


def _row(name: str, verb: v.Verb, extensions: PartFn | None = None) -> Row:
    return Row(
        f"edx.forum.{name}",
        verb,
        v.DISCUSSION,
        post,
        extensions=extensions,
        language="en",
        context_activities=thread_grouping,
    )


ROWS = (
    _row("thread.created", v.POSTED, kind_of("thread_type")),
    _row("response.created", v.POSTED),
    _row("comment.created", v.POSTED),
    _row("thread.edited", v.EDITED),
    _row("response.edited", v.EDITED),
    _row("comment.edited", v.EDITED),
    _row("thread.deleted", v.DELETED),
    _row("response.deleted", v.DELETED),
    _row("comment.deleted", v.DELETED),
    _row("thread.reported", v.REPORTED),
    _row("response.reported", v.REPORTED),
    _row("comment.reported", v.REPORTED),
    _row("thread.unreported", v.UNREPORTED),
    _row("response.unreported", v.UNREPORTED),
    _row("comment.unreported", v.UNREPORTED),
    _row("thread.voted", v.VOTED, kind_of("vote_value")),
    _row("response.voted", v.VOTED, kind_of("vote_value")),
    _row("thread.viewed", v.VIEWED),
)


# Each event as the LMS logs it (the discussion API's server events), about one thread.
def _post(about: About, **more: Any) -> Json:
    """What every forum event carries: the topic, the post and the learner's roles."""
    return {
        "commentable_id": hex_id(about.course_id, "topic", 0),
        **more,
        "url": f"{about.lms_url}/discussions/{about.course_id}/",
        "user_forums_roles": ["Student"],
        "user_course_roles": [],
    }


THREAD = "65f1a2b3c4d5e6f708192a3b"
RESPONSE = "65f1a2c4d5e6f708192a3b4c"
COMMENT = "65f1a2d5e6f708192a3b4c5d"


def _created(kind: str) -> Sample:
    def payload(about: About) -> Json:
        if kind == "thread":
            title = "Question about Week 1"
            return _post(
                about,
                group_id=None,
                thread_type="discussion",
                anonymous=False,
                anonymous_to_peers=False,
                options={"followed": True},
                from_mfe_sidebar=False,
                title=title,
                title_truncated=False,
                body=f"<p>{title}: can someone explain?</p>",
                truncated=False,
                id=THREAD,
            )
        parent = {"response": {"id": RESPONSE}} if kind == "comment" else {}
        return {
            "discussion": {"id": THREAD},
            **parent,
            **_post(
                about,
                options={"followed": False},
                from_mfe_sidebar=False,
                truncated=False,
                body="<p>I think it is chapter 2.</p>",
                id=COMMENT if kind == "comment" else RESPONSE,
            ),
        }

    return Sample("server", "", payload)


def _moderated(kind: str, action: str) -> Sample:
    """An edit, report, unreport or deletion of the learner's own post."""
    post_id = {"thread": THREAD, "response": RESPONSE, "comment": COMMENT}[kind]
    more: Json = {"edit_reason": None} if action == "edited" else {"body": "<p>edited</p>"}
    if action in ("reported", "unreported"):
        more["truncated"] = False
    if action == "unreported":
        more["reported_status_cleared"] = True
    return Sample(
        "server",
        "",
        lambda a: {
            **_post(
                a,
                content_type=kind.capitalize(),
                own_content=True,
                target_username=a.username,
                id=post_id,
            ),
            **more,
        },
    )


def _voted(post_id: str) -> Sample:
    return Sample(
        "server",
        "",
        lambda a: _post(
            a, target_username=a.username, undo_vote=False, vote_value="up", id=post_id
        ),
    )


SAMPLES = {
    **{f"edx.forum.{kind}.created": _created(kind) for kind in ("thread", "response", "comment")},
    **{
        f"edx.forum.{kind}.{action}": _moderated(kind, action)
        for kind in ("thread", "response", "comment")
        for action in ("edited", "deleted", "reported", "unreported")
    },
    "edx.forum.thread.voted": _voted(THREAD),
    "edx.forum.response.voted": _voted(RESPONSE),
    "edx.forum.thread.viewed": Sample(
        "server",
        "",
        lambda a: _post(
            a,
            target_username=a.username,
            title="Question about Week 1",
            title_truncated=False,
            id=THREAD,
        ),
    ),
}

register(ROWS, SAMPLES)
