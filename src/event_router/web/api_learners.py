"""`POST /api/v1/learners/forget`: the user-retirement pipeline's call (admins only).

Forgetting through the running router takes effect at once: the new retired list is the
privacy screen of every source before the journal is redacted, so no event of the learner can
slip in between; the answer says what was removed from each store.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from event_router.privacy.forget import (
    ForgetError,
    Learner,
    answer,
    forget_in_journal,
    forget_in_store,
)
from event_router.web.auth import Admin
from event_router.web.context import web
from event_router.web.errors import ApiError

router = APIRouter(prefix="/api/v1/learners", tags=["learners"])


class ForgetRequest(BaseModel):
    """The learner, by LMS user id and/or username (both when known: events carry either)."""

    model_config = ConfigDict(extra="forbid")

    user_id: int | str | None = Field(default=None, description="LMS user id.")
    username: str | None = Field(default=None, max_length=255)


@router.post("/forget")
async def forget_learner(request: Request, principal: Admin, body: ForgetRequest) -> dict[str, Any]:
    """Forget a learner: identities and dead letters removed, journal events redacted (SQLite)
    or deleted (Redis), later events dropped at ingest. Delivered statements are not recalled
    (docs/privacy.md)."""
    context = web(request)
    try:
        learner = Learner.of(body.user_id, body.username)
    except ForgetError as exc:
        raise ApiError(422, str(exc)) from None
    control = await run_in_threadpool(forget_in_store, context.store, context.secret_key, learner)
    if context.engine is not None:
        await context.engine.reload_tables()
    journal = await run_in_threadpool(forget_in_journal, context.journal, learner)
    return answer(control, journal)
