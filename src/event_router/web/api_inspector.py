"""`/api/v1/journal/events`: the event inspector's API (read only: viewers too, as dead letters).

A search examines at most 50,000 journal entries (newest first) and answers `next` when there is
more to look at: pass it back as `before`. See web/inspector.py and journal/search.py.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from event_router.journal.search import BUDGET
from event_router.journal.search import Query as Search
from event_router.web.auth import Viewer
from event_router.web.context import web
from event_router.web.errors import ApiError
from event_router.web.inspector import find, locate, outcomes, summary

router = APIRouter(prefix="/api/v1/journal/events", tags=["event inspector"])
POSITION = r"^\d{1,19}(-\d{1,19})?$"  # a SQLite seq, or a Redis entry id
MAX_TEXT = 255  # characters of a learner, course or event name searched for


def epoch(value: datetime | None) -> float | None:
    """Epoch seconds; a time without a zone is UTC."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def text(value: str | None) -> str | None:
    value = value.strip() if value else None
    return value or None


def search_query(
    learner: str | None,
    course: str | None,
    name: str | None,
    since: datetime | None,
    until: datetime | None,
    before: str | None,
) -> Search:
    """The search asked for, or a 400 naming what is wrong."""
    for field, value in (("learner", learner), ("course", course), ("name", name)):
        if value is not None and len(value) > MAX_TEXT:  # the UI's form has no Query() bound
            raise ApiError(400, f"{field}: at most {MAX_TEXT} characters")
    if before is not None and not re.match(POSITION, before):
        raise ApiError(400, "before: a position from an earlier answer's `next`")
    start, end = epoch(since), epoch(until)
    if start is not None and end is not None and start >= end:
        raise ApiError(400, "since must be before until")
    return Search(text(learner), text(course), text(name), start, end, before)


@router.get("")
async def find_events(
    request: Request,
    principal: Viewer,
    learner: Annotated[
        str | None, Query(max_length=255, description="A user id or a username.")
    ] = None,
    course: Annotated[str | None, Query(max_length=255, description="A course id.")] = None,
    name: Annotated[str | None, Query(max_length=255, description="An event name.")] = None,
    since: Annotated[
        datetime | None, Query(description="Accepted at or after (ISO 8601; UTC if no zone).")
    ] = None,
    until: Annotated[datetime | None, Query(description="Accepted before.")] = None,
    before: Annotated[
        str | None, Query(max_length=40, description="Continue below this position (`next`).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Events matching every filter given, newest first; `next` (if not null) continues."""
    query = search_query(learner, course, name, since, until, before)
    page, _ = await run_in_threadpool(find, web(request), query, limit)
    return {
        "events": [summary(found) for found in page.found],
        "next": page.next,
        "examined": page.examined,
        "budget": BUDGET,
    }


@router.get("/{position}")
async def inspect_event(
    request: Request,
    principal: Viewer,
    position: Annotated[str, Path(max_length=40, description="Its `position` in a search.")],
) -> dict[str, Any]:
    """The event (fields dropped at ingest left out) and, per consumer, what it got: route rule,
    items or why none, statement ids, and `outcome` (`delivered`, `pending`, `dead letter`,
    `not sent`) with its `reason`."""
    context = web(request)
    found = (
        await run_in_threadpool(locate, context, position) if re.match(POSITION, position) else None
    )
    if found is None:
        raise ApiError(404, f"no event at {position} in the journal")
    results = await run_in_threadpool(outcomes, context, found)
    return {**summary(found), "event": found.event.as_dict(), "consumers": results}
