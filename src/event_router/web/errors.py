"""Errors of the admin API as JSON `{"error": message, ...}`, the shape ingest answers with too.

Store errors map to their HTTP meaning in one place (unknown → 404, duplicate → 409, invalid →
400 with one line per problem), so endpoints only call the store and let errors rise. Anything
else (a bug, a database gone) answers a bare 500 that names no internals: the traceback goes to
the log, never to the client. UI pages get the same answers as an HTML page.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from event_router.store import (
    DuplicateConsumer,
    DuplicateUser,
    InvalidConfig,
    InvalidUser,
    StoreError,
    StoreUnavailable,
)
from event_router.store.database import MAX_ROW_ID

log = logging.getLogger(__name__)

MAX_ID = MAX_ROW_ID  # an id or offset beyond it would reach the database and fail there
RowId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="A row id.")]
ErrorPage = Callable[[Request, int, str, str], Awaitable[Response]]


class ErrorBody(BaseModel):
    """What every error of the API answers: a message, sometimes one line per problem."""

    model_config = ConfigDict(extra="allow")

    error: str = Field(description="What went wrong, fit to show as is.")
    errors: list[str] | None = Field(default=None, description="One line per problem.")


class ApiError(Exception):
    """An answer other than success, with a message fit to show as is."""

    def __init__(
        self, status: int, message: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers
        self.extra = extra


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)


def store_status(exc: StoreError) -> int:
    if isinstance(exc, LookupError):
        return 404
    if isinstance(exc, DuplicateConsumer | DuplicateUser):
        return 409
    if isinstance(exc, InvalidConfig | InvalidUser):
        return 400
    if isinstance(exc, StoreUnavailable):
        return 503
    return 500


def _is_api(request: Request) -> bool:
    """Whether the answer should be JSON: API paths, and every path of an app without a UI."""
    page = getattr(request.app.state, "error_page", None)
    return page is None or request.url.path == "/api" or request.url.path.startswith("/api/")


async def _answer(request: Request, status: int, message: str, **extra: Any) -> Response:
    if _is_api(request):
        return error_response(status, message, **extra)
    titles = {400: "Bad request", 404: "Not found", 405: "Not allowed", 500: "Server error"}
    page: ErrorPage = request.app.state.error_page
    return await page(request, status, titles.get(status, "Error"), message)


def install(app: FastAPI) -> None:
    """Register the handlers on the app (every app: the ingest-only one too)."""

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        # Routing answers (404 no such path, 405 wrong method) in the same shape as ours.
        response = await _answer(request, exc.status_code, str(exc.detail))
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # Starlette logs the exception with its traceback after this answer is sent.
        log.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__)
        return await _answer(request, 500, "internal error: the router logged the details")

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.headers, **exc.extra)

    @app.exception_handler(StoreError)
    async def _store_error(request: Request, exc: StoreError) -> JSONResponse:
        if isinstance(exc, InvalidConfig):
            return error_response(400, "invalid consumer configuration", errors=exc.errors)
        return error_response(store_status(exc), str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = []
        in_path = True
        for error in exc.errors():
            location = error.get("loc", ())
            in_path = in_path and bool(location) and location[0] == "path"
            where = ".".join(str(part) for part in location if part != "body")
            message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
            errors.append(f"{where}: {message}" if where else message)
        if not _is_api(request):  # a page: `/dead-letters/abc` names nothing there can be
            if in_path:
                return await _answer(request, 404, f"nothing at {request.url.path}")
            return await _answer(request, 400, "; ".join(errors))
        return error_response(400, "invalid request", errors=errors)
