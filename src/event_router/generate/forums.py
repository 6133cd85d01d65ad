"""Discussion forums: threads, responses and comments to threads that exist, votes, moderation."""

from __future__ import annotations

from collections.abc import Iterator

from event_router.generate.visit import Json, Step, Visit
from event_router.translate.samples import hex_id

DISCUSSION_API = "/api/discussion/v1"


def discuss(visit: Visit) -> Iterator[Step]:
    rng = visit.rng
    course = visit.course
    learner = visit.learner
    referer = f"{visit.lms_url}/discussions/{course.course_id}/"
    roles = {"url": referer, "user_forums_roles": ["Student"], "user_course_roles": []}
    topic = hex_id(course.course_id, "topic", rng.randrange(3))

    def object_id() -> str:
        return f"{int(visit.now.timestamp()):08x}{rng.getrandbits(64):016x}"

    if not course.threads or rng.random() < 0.3:
        thread = object_id()
        title = f"Question about {rng.choice(course.subsections).name}"
        course.threads.append((thread, title, learner.user_id))
        yield Step(
            "edx.forum.thread.created",
            {
                "commentable_id": topic,
                "group_id": None,
                "thread_type": rng.choice(("discussion", "question")),
                "anonymous": False,
                "anonymous_to_peers": False,
                "options": {"followed": True},
                "from_mfe_sidebar": False,
                "title": title,
                "title_truncated": False,
                "body": f"<p>{title}: can someone explain?</p>",
                "truncated": False,
                "id": thread,
                **roles,
            },
            "server",
            f"{DISCUSSION_API}/threads/",
            referer,
        )
        if rng.random() < 0.2:
            yield from _moderate(visit, "thread", thread, f"{DISCUSSION_API}/threads", roles)
        return
    thread, title, _author = rng.choice(course.threads)
    thread_path = f"{DISCUSSION_API}/threads/{thread}/"
    yield Step(
        "edx.forum.thread.viewed",
        {"commentable_id": topic, "target_username": learner.username, "title": title,
         "title_truncated": False, "id": thread, **roles},
        "server", thread_path, referer,
    )  # fmt: skip
    if rng.random() < 0.4:
        yield Step(
            "edx.forum.thread.voted",
            {"commentable_id": topic, "target_username": learner.username, "undo_vote": False,
             "vote_value": "up", "id": thread, **roles},
            "server", thread_path, referer,
        )  # fmt: skip
    response = object_id()
    yield Step(
        "edx.forum.response.created",
        {"discussion": {"id": thread}, "commentable_id": topic, "options": {"followed": False},
         "from_mfe_sidebar": False, "truncated": False, "body": "<p>I think it is chapter 2.</p>",
         "id": response, **roles},
        "server", f"{DISCUSSION_API}/comments/", referer,
    )  # fmt: skip
    if rng.random() < 0.3:
        yield Step(
            "edx.forum.response.voted",
            {"commentable_id": topic, "target_username": learner.username, "undo_vote": False,
             "vote_value": "up", "id": response, **roles},
            "server", f"{DISCUSSION_API}/comments/{response}/", referer,
        )  # fmt: skip
    if rng.random() < 0.5:
        comment = object_id()
        yield Step(
            "edx.forum.comment.created",
            {"discussion": {"id": thread}, "response": {"id": response}, "commentable_id": topic,
             "options": {"followed": False}, "from_mfe_sidebar": False, "truncated": False,
             "body": "<p>Thanks!</p>", "id": comment, **roles},
            "server", f"{DISCUSSION_API}/comments/", referer,
        )  # fmt: skip
        if rng.random() < 0.2:
            yield from _moderate(visit, "comment", comment, f"{DISCUSSION_API}/comments", roles)
    if rng.random() < 0.2:
        yield from _moderate(visit, "response", response, f"{DISCUSSION_API}/comments", roles)


def _moderate(visit: Visit, kind: str, post: str, base: str, roles: Json) -> Iterator[Step]:
    """Edit, report then unreport, or delete a post of the learner's."""
    rng = visit.rng
    data = {
        "commentable_id": hex_id(visit.course.course_id, "topic", 0),
        "content_type": kind.capitalize(),
        "own_content": True,
        "target_username": visit.learner.username,
        "id": post,
        **roles,
    }
    path, referer = f"{base}/{post}/", roles["url"]
    yield Step(f"edx.forum.{kind}.edited", {**data, "edit_reason": None}, "server", path, referer)
    if rng.random() < 0.5:
        body = {**data, "body": "<p>edited</p>", "truncated": False}
        yield Step(f"edx.forum.{kind}.reported", body, "server", path, referer)
        yield Step(f"edx.forum.{kind}.unreported", {**body, "reported_status_cleared": True},
                   "server", path, referer)  # fmt: skip
    else:
        yield Step(f"edx.forum.{kind}.deleted", {**data, "body": "<p>edited</p>"},
                   "server", path, referer)  # fmt: skip
