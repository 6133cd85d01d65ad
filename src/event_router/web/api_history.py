"""`GET /api/v1/history`: delivery figures over time, for the router and per consumer.

Read only (viewers too). One-minute buckets for the last day, fifteen-minute ones before it (see
store/history.py); `step` regroups them into longer buckets for a long range.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from event_router.store.history import KEEP_SECONDS, ROUTER
from event_router.web.auth import Viewer
from event_router.web.context import web
from event_router.web.errors import ApiError

router = APIRouter(tags=["history"])
STEPS = (60, 300, 900, 3600)
MAX_TIME = 2**40  # epoch seconds far beyond any real time (years 36,000 and more)


def history_payload(
    request: Request, consumers: list[str] | None, since: int, until: int, step: int
) -> dict[str, Any]:
    """The answer of `GET /api/v1/history` (the UI's charts draw the same)."""
    store = web(request).store
    names = consumers if consumers is not None else [c.name for c in store.consumers.list()]
    found = store.history.series([ROUTER, *names], since, until, step)

    def points(scope: str) -> list[dict[str, Any]]:
        return [point.to_json() for point in found.get(scope, [])]

    return {
        "since": since,
        "until": until,
        "step": step,
        "router": points(ROUTER),
        "consumers": {name: points(name) for name in names},
    }


@router.get("/api/v1/history")
async def history(
    request: Request,
    principal: Viewer,
    consumer: Annotated[
        list[str] | None, Query(description="Only these consumers (repeatable); default: all.")
    ] = None,
    since: Annotated[
        int | None, Query(ge=0, le=MAX_TIME, description="Epoch seconds; default: a day ago.")
    ] = None,
    until: Annotated[
        int | None, Query(ge=0, le=MAX_TIME, description="Epoch seconds; default: now.")
    ] = None,
    step: Annotated[
        int, Query(ge=60, le=3600, description="Bucket length in seconds: 60, 300, 900 or 3600.")
    ] = 60,
) -> dict[str, Any]:
    """Per bucket (`ts`, epoch seconds, and `step`): events handled, items delivered, events
    ingested (router), retries, errors, dead letters, untranslatable events, lag at the end of
    the bucket, latency p50/p99 (ms) and how many deliveries they are measured on."""
    end = int(time.time()) + 60 if until is None else until
    start = end - 86_400 if since is None else since
    if step not in STEPS:
        raise ApiError(400, "step must be 60, 300, 900 or 3600")
    if start >= end:
        raise ApiError(400, "since must be before until")
    if end - start > KEEP_SECONDS + 86_400:
        raise ApiError(400, f"at most {KEEP_SECONDS // 86_400 + 1} days at once")
    store = web(request).store
    if consumer:
        for name in consumer:
            await run_in_threadpool(store.consumers.get, name)  # 404 for an unknown name
    return await run_in_threadpool(history_payload, request, consumer, start, end, step)
