"""`GET /api/v1/stream`: a stream consumer's items as Server-Sent Events, for its subscribers.

Only an API token bound to a stream consumer opens it (`event-router tokens create --consumer`):
the stream is that consumer's, with its route, protocol and identity policy; a user's own token
or session is refused, as is a bound token anywhere else. `Last-Event-ID` resumes from the
journal; a position it no longer retains is answered with an `error` event, and a subscriber that
lets its buffer overflow gets a `closed` event saying why (see `stream.hub`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.types import Message, Receive, Scope, Send

from event_router.store.tokens import Tokens
from event_router.stream.hub import Hub, PositionRefused
from event_router.stream.sse import Position, notice, opening, parse_position
from event_router.stream.subscriber import Subscriber, Write
from event_router.web.auth import client_address
from event_router.web.context import web
from event_router.web.errors import ApiError

router = APIRouter(tags=["stream"])
RECHECK_EVERY = 2.0  # seconds: how soon an open stream ends once its token is revoked
HEADERS = {
    "Cache-Control": "no-store",
    "X-Accel-Buffering": "no",  # nginx: pass each message on at once
}


def _error(description: str) -> dict[str, object]:
    schema = {"$ref": "#/components/schemas/ErrorBody"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


@router.get(
    "/api/v1/stream",
    response_class=Response,
    openapi_extra={"security": [{"apiToken": []}]},
    responses={
        200: {
            "description": "Server-Sent Events: one message per item (event `xapi`, `caliper` "
            "or `edx`, id = journal position), then `closed` or `error` with the reason.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        401: _error("No token, or not a valid one."),
        403: _error("A valid token that is not bound to a stream consumer."),
        503: _error("The token's consumer is not streaming in this process."),
    },
)
async def stream(
    request: Request,
    consumer: Annotated[
        str | None,
        Query(
            max_length=63,
            description="The consumer the client expects; it must be the token's (default).",
        ),
    ] = None,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            description="Resume after this message (its id): `N` or `N.k`.",
        ),
    ] = None,
) -> Response:
    """Subscribe to the stream consumer the token is bound to."""
    context = web(request)
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    token = credentials.strip() if scheme.lower() == "bearer" else ""
    tokens = context.store.tokens
    found = await run_in_threadpool(tokens.authenticate_stream, token) if token else None
    if found is None:
        if token and await run_in_threadpool(tokens.authenticate, token) is not None:
            raise ApiError(
                403,
                "this token is not bound to a stream consumer: create one with "
                "event-router tokens create --user USER --name NAME --consumer CONSUMER",
            )
        raise ApiError(
            401,
            "a stream needs Authorization: Bearer <a token bound to a stream consumer>",
            headers={"WWW-Authenticate": 'Bearer realm="event-router"'},
        )
    user, token_name, bound = found
    if consumer is not None and consumer != bound:
        raise ApiError(403, f"this token reads the stream of {bound}, not of {consumer}")
    consumer = bound
    start: Position | None = None
    if last_event_id:
        try:
            start = parse_position(last_event_id)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
    hub = context.engine.stream(consumer) if context.engine is not None else None
    if hub is None:
        raise ApiError(
            503,
            f"consumer {consumer} is not streaming in this router process: it is disabled, "
            "not (or no longer) a stream consumer, or delivery does not run here",
            headers={"Retry-After": "5"},
        )
    refused: PositionRefused | None = None
    if start is not None:
        try:
            hub.check(start)
        except PositionRefused as exc:
            refused = exc
    subscriber = None
    if refused is None:
        who = user.username
        subscriber = hub.subscribe(
            start, user=who, token=token_name, client=client_address(request)
        )
    still_valid = _checker(tokens, token, consumer)
    return EventStream(hub, subscriber, refused, still_valid)


def _checker(tokens: Tokens, token: str, consumer: str) -> Callable[[], Awaitable[bool]]:
    """Whether the token still opens this stream (not revoked, its user not removed)."""

    async def still_valid() -> bool:
        found = await run_in_threadpool(tokens.authenticate_stream, token)
        return found is not None and found[2] == consumer

    return still_valid


class EventStream(Response):
    """The SSE answer: written by the hub through this connection until either side ends it."""

    media_type = "text/event-stream"

    def __init__(
        self,
        hub: Hub,
        subscriber: Subscriber | None,
        refused: PositionRefused | None,
        still_valid: Callable[[], Awaitable[bool]],
    ):
        super().__init__(headers=HEADERS, media_type=self.media_type)
        # No length: the body goes on until one side ends it.
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self.hub = hub
        self.subscriber = subscriber
        self.refused = refused
        self.still_valid = still_valid

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def write(data: bytes) -> None:
            await send({"type": "http.response.body", "body": data, "more_body": True})

        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            await write(opening(self.hub.consumer.name))
            if self.subscriber is None:
                assert self.refused is not None
                refused = self.refused
                await write(
                    notice("error", error=refused.code, message=str(refused), **refused.details)
                )
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await self._serve(self.subscriber, receive, send, write)
        finally:
            if self.subscriber is not None:  # however the connection ended
                self.hub.leave(self.subscriber)

    async def _serve(
        self, subscriber: Subscriber, receive: Receive, send: Send, write: Write
    ) -> None:
        """Run the subscriber until it is cut off (its last message written, or `grace` spent
        on a connection that reads nothing: it is then closed without it) or the client goes
        away."""
        serving = asyncio.create_task(self.hub.serve(subscriber, write))
        gone = asyncio.create_task(_disconnected(receive))
        expired = asyncio.create_task(_expire(subscriber, self.hub.options.grace))
        watch = asyncio.create_task(_revoked(subscriber, self.still_valid))
        tasks = (serving, gone, expired, watch)
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            if serving in done:
                serving.result()
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            # Else the client left, or reads nothing: returning unfinished closes the connection.
        finally:
            self.hub.leave(subscriber)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(BaseException):
                    await task


async def _revoked(subscriber: Subscriber, still_valid: Callable[[], Awaitable[bool]]) -> None:
    """Cut the subscriber off once its token stops opening the stream, as a revoked token or a
    removed user ends everything else at once; never returns (the cut-off ends the serving)."""
    while subscriber.closing is None:
        await asyncio.sleep(RECHECK_EVERY)
        try:
            valid = await still_valid()
        except Exception:  # the store is unreachable for a moment: check again later
            continue
        if not valid:
            subscriber.close("revoked", "the token was revoked, or its user removed")
    await asyncio.Event().wait()


async def _expire(subscriber: Subscriber, grace: float) -> None:
    """Returns `grace` seconds after the subscriber was cut off."""
    await subscriber.ended.wait()
    await asyncio.sleep(grace)


async def _disconnected(receive: Receive) -> None:
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            return
