"""UI pages of the event inspector: a search over the journal, and one event with what each
consumer got (web/inspector.py does the work; the API is web/api_inspector.py)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from event_router.journal.search import BUDGET
from event_router.web.api_inspector import POSITION, search_query
from event_router.web.auth import UiUser
from event_router.web.context import web
from event_router.web.errors import ApiError
from event_router.web.inspector import find, locate, outcomes, summary
from event_router.web.ui import PageNotFound, render

router = APIRouter(include_in_schema=False)
FIELDS = ("learner", "course", "name", "since", "until")
PAGE = 50


def _time(value: str) -> datetime | None:
    """A `datetime-local` field (or any ISO 8601 time); empty is none."""
    if not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise ApiError(400, f"not a time: {value!r} (use YYYY-MM-DDTHH:MM, UTC)") from None


@router.get("/events")
async def events_page(request: Request, principal: UiUser) -> Response:
    params = request.query_params
    form = {key: params.get(key, "") for key in FIELDS}
    asked = any(form.values()) or "before" in params
    context: dict[str, Any] = {"form": form, "asked": asked, "budget": BUDGET, "events": []}
    if asked:
        try:
            query = search_query(
                form["learner"], form["course"], form["name"],
                _time(form["since"]), _time(form["until"]), params.get("before") or None,
            )  # fmt: skip
            page, _ = await run_in_threadpool(find, web(request), query, PAGE)
        except ApiError as exc:
            context["error"] = exc.message
        else:
            context["events"] = [summary(found) for found in page.found]
            context["examined"] = page.examined
            if page.next is not None:
                context["next"] = "/events?" + urlencode({**form, "before": page.next})
    status = 400 if "error" in context else 200
    return render(request, "events.html", principal, status, active="events", **context)


@router.get("/events/{position}")
async def event_page(request: Request, principal: UiUser, position: str) -> Response:
    context = web(request)
    found = (
        await run_in_threadpool(locate, context, position) if re.match(POSITION, position) else None
    )
    if found is None:
        raise PageNotFound(f"No event at {position} in the journal.")
    results = await run_in_threadpool(outcomes, context, found)
    return render(
        request,
        "event.html",
        principal,
        event=summary(found),
        normalised=found.event.as_dict(),
        results=results,
        active="events",
    )
