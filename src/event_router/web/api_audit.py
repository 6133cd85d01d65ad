"""`GET /api/v1/audit`: who changed, replayed, rewound or forgot what, and when (admins only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from event_router.web.auth import Admin
from event_router.web.context import web
from event_router.web.errors import MAX_ID

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("")
async def audit_log(
    request: Request,
    principal: Admin,
    actor: Annotated[str | None, Query(max_length=200, description="Only this actor's.")] = None,
    action: Annotated[
        str | None, Query(max_length=64, description="Actions starting with this, e.g. consumer.")
    ] = None,
    target: Annotated[str | None, Query(max_length=255, description="Only this target.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> dict[str, Any]:
    """Entries newest first, with the total for paging. Field names are logged, never values:
    no secret is ever in the log."""
    entries, total = await run_in_threadpool(
        web(request).store.audit.list,
        limit=limit,
        offset=offset,
        actor=actor,
        action=action,
        target=target,
    )
    return {
        "total": total,
        "limit": limit,
        "offset": offset,
        "items": [entry.to_json() for entry in entries],
    }
