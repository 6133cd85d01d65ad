"""`POST /api/v1/playground`: which consumers would receive an event, by which rule, as what.

Read only, so viewers may use it. The event is the request body: a JSON object in either layout
(event-tracking / event bus, or a tracking.log record).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from event_router.events import NormaliseError
from event_router.routing.consumer import Protocol
from event_router.routing.route import Route
from event_router.web.auth import Viewer
from event_router.web.context import web
from event_router.web.errors import ApiError
from event_router.web.playground import SAMPLE, event_from_json, summary, try_event
from event_router.web.route_preview import known_names, preview

router = APIRouter(tags=["playground"])


@router.post("/api/v1/playground")
def playground(
    request: Request,
    principal: Viewer,
    event: Annotated[Any, Body(description="One Open edX tracking event.", examples=[SAMPLE])],
    consumer: Annotated[
        list[str] | None, Query(description="Only these consumers (repeatable).")
    ] = None,
) -> dict[str, Any]:
    """For each consumer: allowed or not, the deciding rule, and the exact items it would get."""
    try:
        parsed = event_from_json(event)
    except NormaliseError as exc:
        raise ApiError(400, f"not a tracking event: {exc}") from None
    context = web(request)
    if consumer:
        for name in consumer:
            context.store.consumers.get(name)  # 404 for an unknown name
    return {"event": summary(parsed), "results": try_event(context, parsed, consumer)}


class RoutePreview(BaseModel):
    """A route being written, and the protocol of its consumer."""

    model_config = ConfigDict(extra="forbid")

    protocol: Protocol = Protocol.XAPI
    route: Route = Field(default_factory=Route)


@router.post("/api/v1/playground/route")
async def route_preview(request: Request, principal: Viewer, body: RoutePreview) -> dict[str, Any]:
    """Which of the journal's last 1,000 events the route would let through (per event name,
    with the deciding rule), and `hints` for allow / deny patterns that match no known event
    name. Nothing is saved."""
    journal = web(request).journal
    return await run_in_threadpool(preview, body.route, body.protocol.value, journal)


@router.get("/api/v1/playground/event-names")
def event_names(
    principal: Viewer, protocol: Annotated[Protocol, Query()] = Protocol.XAPI
) -> dict[str, Any]:
    """The event names the translation registry knows for a protocol (edx: both registries')."""
    return {"protocol": protocol.value, "names": list(known_names(protocol.value))}
