"""Errors of the admin API as JSON `{"error": message, ...}`, the shape ingest answers with too.

Store errors map to their HTTP meaning in one place (unknown → 404, duplicate → 409, invalid →
400 with one line per problem), so endpoints only call the store and let errors rise.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from event_router.store import (
    DuplicateConsumer,
    DuplicateUser,
    InvalidConfig,
    InvalidUser,
    StoreError,
    StoreUnavailable,
)


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


def install(app: FastAPI) -> None:
    """Register the handlers on the app."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.headers, **exc.extra)

    @app.exception_handler(StoreError)
    async def _store_error(request: Request, exc: StoreError) -> JSONResponse:
        if isinstance(exc, InvalidConfig):
            return error_response(400, "invalid consumer configuration", errors=exc.errors)
        return error_response(store_status(exc), str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
            message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
            errors.append(f"{where}: {message}" if where else message)
        return error_response(400, "invalid request", errors=errors)
