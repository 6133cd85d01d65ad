"""A consumer's delivery log and "retry now": `/api/v1/consumers/{name}/attempts` and `/retry`.

The log is the delivering process's memory (`delivery.attempts`): the last sends, their answers
(secrets masked), tries, next retry and since when the consumer has been failing.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from event_router.delivery.attempts import KEPT
from event_router.web.auth import Admin, Viewer
from event_router.web.context import web
from event_router.web.errors import ApiError

router = APIRouter(prefix="/api/v1/consumers", tags=["consumers"])
NOT_WAITING = {
    "description": "The consumer is not waiting to retry (it is sending, or up to date).",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
}


def delivery_log(request: Request, name: str) -> dict[str, Any]:
    """The consumer's recent sends as this process keeps them (none if it does not deliver)."""
    engine = web(request).engine
    stats = engine.stats.get(name) if engine is not None else None
    return {
        "consumer": name,
        "state": stats.state.value if stats is not None else None,
        "failing_since": stats.attempts.failing_since if stats is not None else None,
        "next_retry_at": stats.attempts.next_retry_at if stats is not None else None,
        "attempts": stats.attempts.recent() if stats is not None else [],
        "kept": KEPT,
    }


@router.get("/{name}/attempts")
async def attempts(request: Request, principal: Viewer, name: str) -> dict[str, Any]:
    """The last sends to the consumer (newest first): time, items, verdict, HTTP status,
    latency, an excerpt of the answer (secrets masked), try number and next retry; and since
    when it has been failing. Kept in this process's memory (the last 100)."""
    await run_in_threadpool(web(request).store.consumers.get, name)  # 404 for an unknown one
    return delivery_log(request, name)


@router.post("/{name}/retry", status_code=202, responses={409: NOT_WAITING})
async def retry(request: Request, principal: Admin, name: str) -> dict[str, Any]:
    """Have a paused or backing-off consumer try again now instead of at its next retry."""
    await run_in_threadpool(web(request).store.consumers.get, name)
    engine = web(request).engine
    waiting = engine.retry_now(name) if engine is not None else None
    if waiting is None:
        raise ApiError(503, f"{name} is not delivering in this router process")
    if not waiting:
        raise ApiError(409, f"{name} is not waiting to retry: it is sending or up to date")
    return {"consumer": name, "retrying": True}
