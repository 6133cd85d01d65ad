"""UI pages for dead letters: a filtered, paged list with bulk replay / discard, and one letter in
full (the event, the item sent, the endpoint's answer)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from event_router.store import State, UnknownConsumer, UnknownDeadLetter
from event_router.web.auth import UiAdmin, UiUser, check_form_csrf
from event_router.web.context import web
from event_router.web.errors import MAX_ID, RowId
from event_router.web.ui import PageNotFound, flash, redirect, render

router = APIRouter(include_in_schema=False)
PAGE = 50


@router.get("/dead-letters")
def dead_letters(
    request: Request,
    principal: UiUser,
    consumer: str = "",
    state: str = "dead",
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> Response:
    store = web(request).store
    names = [c.name for c in store.consumers.list()]
    chosen_state = state if state in {s.value for s in State} else None
    chosen_consumer = consumer if consumer in names else None
    offset = max(0, offset)
    letters = store.dead_letters.list(chosen_consumer, chosen_state, PAGE, offset)
    total = store.dead_letters.count(chosen_consumer, chosen_state)

    def page(at: int) -> str:
        return "/dead-letters?" + urlencode(
            {"consumer": consumer, "state": state or "any", "offset": at}
        )

    return render(
        request,
        "dead_letters.html",
        principal,
        letters=letters,
        total=total,
        names=names,
        consumer=chosen_consumer or "",
        state=chosen_state or "any",
        states=[s.value for s in State],
        offset=offset,
        previous=page(max(0, offset - PAGE)) if offset else None,
        next=page(offset + PAGE) if offset + len(letters) < total else None,
        active="dead-letters",
    )


@router.get("/dead-letters/{letter_id}")
def dead_letter(request: Request, principal: UiUser, letter_id: RowId) -> Response:
    try:
        letter = web(request).store.dead_letters.get(letter_id)
    except UnknownDeadLetter as exc:
        raise PageNotFound(str(exc)) from None
    return render(request, "dead_letter.html", principal, letter=letter, active="dead-letters")


@router.post("/dead-letters/{action}")
async def act(request: Request, principal: UiAdmin, action: str) -> Response:
    """`replay` or `discard` the checked letters, or every letter of the chosen consumer."""
    form = await request.form()
    check_form_csrf(principal, form)
    if action not in ("replay", "discard"):
        raise PageNotFound(f"no action {action!r}")
    ids = [int(v) for v in map(str, form.getlist("id")) if _row_id(v)]
    consumer = str(form.get("all_of", "")) or None
    back = str(form.get("back", "")) or "/dead-letters"
    if not ids and consumer is None:
        await flash(request, principal, "Nothing selected.")
        return redirect(_back(back))
    letters = web(request).store.dead_letters
    change: Any = letters.mark_for_replay if action == "replay" else letters.discard
    try:
        count = await run_in_threadpool(change, ids or None, consumer)
    except (UnknownDeadLetter, UnknownConsumer) as exc:
        raise PageNotFound(str(exc)) from None
    verb = "marked for replay" if action == "replay" else "discarded"
    note = f"{count} dead letter(s) {verb}."
    if action == "replay":
        note += " The router re-sends them within a few seconds."
    await flash(request, principal, note)
    return redirect(_back(back))


def _row_id(value: str) -> bool:
    """Whether a form value is a row id (ASCII digits only, within what a row id can be)."""
    return value.isascii() and value.isdigit() and len(value) <= 19 and 0 < int(value) <= MAX_ID


def _back(url: str) -> str:
    """`url` if it is a dead-letter page of this site, else the list."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/dead-letters"):
        return "/dead-letters"
    return parts.path + (f"?{parts.query}" if parts.query else "")
