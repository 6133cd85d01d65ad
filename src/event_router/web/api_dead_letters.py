"""`/api/v1/dead-letters`: what endpoints rejected, with their answers; replay or discard.

Replay only marks letters: the running router re-sends them within a second or two (same ids, so
an endpoint that took one already sees a duplicate).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from event_router.store import DeadLetter, State
from event_router.web.auth import Admin, Viewer
from event_router.web.context import web
from event_router.web.errors import MAX_ID, ApiError, RowId

router = APIRouter(prefix="/api/v1/dead-letters", tags=["dead letters"])


class Selection(BaseModel):
    """Which letters: these ids, every letter of a consumer, or those ids of that consumer."""

    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        default_factory=list, max_length=10_000
    )
    consumer: str | None = None


def summary(letter: DeadLetter) -> dict[str, Any]:
    """A letter without the event and the item (see the single-letter endpoint for those)."""
    data = letter.to_json()
    del data["event"], data["item"]
    return data


@router.get("")
def list_letters(
    request: Request,
    principal: Viewer,
    consumer: Annotated[str | None, Query(description="Only this consumer's.")] = None,
    state: Annotated[State | None, Query(description="Only letters in this state.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> dict[str, Any]:
    """Dead letters, newest first, with the total for paging."""
    store = web(request).store
    if consumer is not None:
        store.consumers.get(consumer)  # 404 for a consumer that does not exist
    letters = store.dead_letters.list(consumer, state, limit, offset)
    total = store.dead_letters.count(consumer, state)
    return {
        "total": total,
        "limit": limit,
        "offset": offset,
        "items": [summary(letter) for letter in letters],
    }


@router.get("/{letter_id}")
def get_letter(request: Request, principal: Viewer, letter_id: RowId) -> dict[str, Any]:
    """One letter in full: the event, what was sent, and what the endpoint answered."""
    return web(request).store.dead_letters.get(letter_id).to_json()


def _selected(selection: Selection) -> tuple[list[int] | None, str | None]:
    if not selection.ids and selection.consumer is None:
        raise ApiError(400, "name dead letter ids, a consumer, or both")
    return selection.ids or None, selection.consumer


@router.post("/replay")
def replay(request: Request, principal: Admin, selection: Selection) -> dict[str, int]:
    """Mark dead (or discarded) letters for replay."""
    ids, consumer = _selected(selection)
    return {"marked": web(request).store.dead_letters.mark_for_replay(ids, consumer)}


@router.post("/discard")
def discard(request: Request, principal: Admin, selection: Selection) -> dict[str, int]:
    """Give up on letters; they stay listed as discarded and can still be replayed."""
    ids, consumer = _selected(selection)
    return {"discarded": web(request).store.dead_letters.discard(ids, consumer)}


@router.post("/{letter_id}/replay")
def replay_one(request: Request, principal: Admin, letter_id: RowId) -> dict[str, int]:
    """Mark one letter for replay (0 if it is already waiting or was replayed)."""
    return {"marked": web(request).store.dead_letters.mark_for_replay([letter_id])}


@router.post("/{letter_id}/discard")
def discard_one(request: Request, principal: Admin, letter_id: RowId) -> dict[str, int]:
    """Discard one letter (0 if it was already replayed or discarded)."""
    return {"discarded": web(request).store.dead_letters.discard([letter_id])}
