"""Discussion forums: threads, responses and comments to threads that exist, votes, moderation.

Payloads are the samples beside the forum translations (`translate/families/forums.py`) with the
simulated ids, titles and topics (`sampled`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from event_router.generate.visit import Step, Visit, sampled
from event_router.translate.samples import hex_id

DISCUSSION_API = "/api/discussion/v1"


def discuss(visit: Visit) -> Iterator[Step]:
    rng = visit.rng
    course = visit.course
    referer = f"{visit.lms_url}/discussions/{course.course_id}/"
    topic = hex_id(course.course_id, "topic", rng.randrange(3))

    def object_id() -> str:
        return f"{int(visit.now.timestamp()):08x}{rng.getrandbits(64):016x}"

    def step(name: str, path: str, **values: Any) -> Step:
        data = sampled(visit, f"edx.forum.{name}", commentable_id=topic, **values)
        return Step(f"edx.forum.{name}", data, "server", path, referer)

    if not course.threads or rng.random() < 0.3:
        thread = object_id()
        title = f"Question about {rng.choice(course.subsections).name}"
        course.threads.append((thread, title, visit.learner.user_id))
        kind = rng.choice(("discussion", "question"))
        body = f"<p>{title}: can someone explain?</p>"
        yield step("thread.created", f"{DISCUSSION_API}/threads/", thread_type=kind, title=title,
                   body=body, id=thread)  # fmt: skip
        if rng.random() < 0.2:
            yield from _moderate(visit, "thread", thread, f"{DISCUSSION_API}/threads")
        return
    thread, title, _author = rng.choice(course.threads)
    thread_path = f"{DISCUSSION_API}/threads/{thread}/"
    yield step("thread.viewed", thread_path, title=title, id=thread)
    if rng.random() < 0.4:
        yield step("thread.voted", thread_path, id=thread)
    response = object_id()
    discussion = {"id": thread}
    yield step("response.created", f"{DISCUSSION_API}/comments/", discussion=discussion,
               id=response)  # fmt: skip
    if rng.random() < 0.3:
        yield step("response.voted", f"{DISCUSSION_API}/comments/{response}/", id=response)
    if rng.random() < 0.5:
        comment = object_id()
        yield step("comment.created", f"{DISCUSSION_API}/comments/", discussion=discussion,
                   response={"id": response}, body="<p>Thanks!</p>", id=comment)  # fmt: skip
        if rng.random() < 0.2:
            yield from _moderate(visit, "comment", comment, f"{DISCUSSION_API}/comments")
    if rng.random() < 0.2:
        yield from _moderate(visit, "response", response, f"{DISCUSSION_API}/comments")


def _moderate(visit: Visit, kind: str, post: str, base: str) -> Iterator[Step]:
    """Edit, report then unreport, or delete a post of the learner's (in the course's first
    topic, as the sample)."""
    path, referer = f"{base}/{post}/", f"{visit.lms_url}/discussions/{visit.course.course_id}/"

    def step(action: str) -> Step:
        name = f"edx.forum.{kind}.{action}"
        return Step(name, sampled(visit, name, id=post), "server", path, referer)

    yield step("edited")
    if visit.rng.random() < 0.5:
        yield step("reported")
        yield step("unreported")
    else:
        yield step("deleted")
