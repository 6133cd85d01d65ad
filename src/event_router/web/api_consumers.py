"""`/api/v1/consumers`: register, inspect, change, enable, disable, remove and test consumers.

Changes go to the store; the running engine applies them within a second or two. Secrets are
write-only: answers show `"set"` or null, and `"set"` sent back keeps the stored value.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from event_router.delivery.rewind import RewindError, rewind, since_time
from event_router.store.consumers import validate
from event_router.web.auth import Admin, Viewer
from event_router.web.connection_check import check_connection
from event_router.web.context import web
from event_router.web.errors import ApiError
from event_router.web.playground import OptionsSource
from event_router.web.secrets_mask import keep_masked

router = APIRouter(prefix="/api/v1/consumers", tags=["consumers"])

EXAMPLE = {
    "name": "my-lrs",
    "protocol": "xapi",
    "url": "https://lrs.example.com/xAPI/statements",
    "auth": "basic",
    "username": "key",
    "password": "secret",
    "route": {"allow": ["edx\\.video\\..*", "edx.course.enrollment.activated"]},
}
ConsumerBody = Annotated[
    dict[str, Any],
    Body(
        description="Consumer configuration fields (see the Consumer schema in the docs).",
        examples=[EXAMPLE],
    ),
]


@router.get("")
def list_consumers(request: Request, principal: Viewer) -> dict[str, Any]:
    """Every consumer, by name, without secrets."""
    return {"consumers": [r.public() for r in web(request).store.consumers.records()]}


@router.post("", status_code=201)
def create_consumer(request: Request, principal: Admin, body: ConsumerBody) -> dict[str, Any]:
    """Register a consumer (400 with one line per problem if invalid, 409 if the name is taken)."""
    store = web(request).store
    consumer = validate(keep_masked(body, None))
    store.consumers.add(consumer)
    return store.consumers.record(consumer.name).public()


@router.get("/{name}")
def get_consumer(request: Request, principal: Viewer, name: str) -> dict[str, Any]:
    """One consumer's configuration; secrets show as "set" or null."""
    return web(request).store.consumers.record(name).public()


@router.patch("/{name}")
def update_consumer(
    request: Request, principal: Admin, name: str, body: ConsumerBody
) -> dict[str, Any]:
    """Change some fields: `route` merges rule by rule, other fields are replaced whole.

    A `url` with another scheme, host or port removes the stored credentials (password, token,
    signing secret, credential headers) that the same change does not send again.
    """
    store = web(request).store
    stored = store.consumers.get(name).model_dump(mode="json")
    store.consumers.update(name, keep_masked(body, stored))
    return store.consumers.record(name).public()


@router.delete("/{name}", status_code=204, response_class=Response)
def delete_consumer(request: Request, principal: Admin, name: str) -> Response:
    """Remove a consumer and its dead letters; delivery to it stops."""
    web(request).store.consumers.remove(name)
    return Response(status_code=204)


@router.post("/{name}/enable")
def enable_consumer(request: Request, principal: Admin, name: str) -> dict[str, Any]:
    """Resume delivery from where it stopped."""
    store = web(request).store
    store.consumers.set_enabled(name, True)
    return store.consumers.record(name).public()


@router.post("/{name}/disable")
def disable_consumer(request: Request, principal: Admin, name: str) -> dict[str, Any]:
    """Stop delivering; events keep accumulating for the consumer."""
    store = web(request).store
    store.consumers.set_enabled(name, False)
    return store.consumers.record(name).public()


@router.post("/{name}/test")
async def test_consumer(request: Request, principal: Admin, name: str) -> dict[str, Any]:
    """Send one harmless request to the endpoint and report status, latency and answer.

    An LRS gets `GET statements?limit=1`; a Caliper endpoint or a webhook gets one sample item
    about a made-up learner (deterministic id); an archive gets a probe file written and removed.
    """
    context = web(request)
    consumer = await run_in_threadpool(context.store.consumers.get, name)
    options = await run_in_threadpool(OptionsSource(context), consumer.identity)
    destinations = context.store.consumers.destinations
    return await check_connection(consumer, options, context.secret_key, destinations)


class RewindRequest(BaseModel):
    """When to rewind to."""

    model_config = ConfigDict(extra="forbid")

    since: str = Field(
        max_length=64, description="2h, 30m, 90s, 7d ago, or an ISO 8601 time (UTC if no offset)."
    )


@router.post("/{name}/rewind")
async def rewind_consumer(
    request: Request, principal: Admin, name: str, body: RewindRequest
) -> dict[str, Any]:
    """Send the consumer again every event the journal holds since a time (ids are
    deterministic: what the endpoint has is a duplicate it ignores). 400 for a time that is not
    one, 409 when the journal cannot rewind it (scale-out: no router delivered to it yet)."""
    context = web(request)
    try:
        moment = since_time(body.since)
    except ValueError as exc:
        raise ApiError(400, str(exc), errors=[f"since: {exc}"]) from None
    try:
        done = await run_in_threadpool(rewind, context.store, context.journal, name, moment)
    except RewindError as exc:
        raise ApiError(409, str(exc)) from None
    return {"message": done.message, "events": done.events, "note": done.note}
