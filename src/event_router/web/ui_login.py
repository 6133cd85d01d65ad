"""Signing in and out of the admin UI.

Each attempt is counted before its password is checked (`LoginThrottle`), and password checks
take turns (`HashingGate`): guesses sent all at once get no further than guesses sent in a row,
and a crowd of sign-ins cannot take the router's memory or starve its API. A successful sign-in
starts a server-side session; signing out ends it, so a copied cookie is worth nothing after.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from event_router.web.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    SESSION_SECONDS,
    UiUser,
    authenticate,
    check_form_csrf,
    client_address,
    safe_next,
    set_cookie,
)
from event_router.web.context import web
from event_router.web.login_limits import Attempt
from event_router.web.ui import redirect, render

router = APIRouter(include_in_schema=False)
BUSY = "Many people are signing in right now: please try again in a moment."


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    principal = authenticate(request)
    if principal is not None and principal.via == "session":
        return redirect(safe_next(next))
    return _login_form(request, next)


def _login_form(
    request: Request,
    next_url: str | None,
    error: str | None = None,
    status_code: int = 200,
    retry_after: float | None = None,
) -> Response:
    nonce = secrets.token_urlsafe(24)
    no_users = web(request).store.users.count() == 0
    response = render(
        request,
        "login.html",
        None,
        status_code,
        login_csrf=nonce,
        next=safe_next(next_url),
        error=error,
        no_users=no_users,
    )
    set_cookie(request, response, LOGIN_COOKIE, nonce, max_age=3600)
    if retry_after is not None:
        response.headers["Retry-After"] = str(max(1, int(retry_after + 0.999)))
    return response


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    context = web(request)

    async def form(error: str, status: int, retry_after: float | None = None) -> Response:
        return await run_in_threadpool(_login_form, request, next, error, status, retry_after)

    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return await form("The form expired: please sign in again.", 400)
    client = client_address(request)
    attempt = context.throttle.begin(username, client)  # counted now, before any checking
    if not isinstance(attempt, Attempt):
        message = f"Too many failed attempts: try again in {int(attempt) + 1} s."
        return await form(message, 429, attempt)
    async with context.hashing.turn() as turn:
        if not turn:
            context.throttle.refund(attempt)  # never checked: it should not count
            return await form(BUSY, 429, context.hashing.wait)
        user = await run_in_threadpool(context.store.users.authenticate, username, password)
    if user is None:
        return await form("Wrong user name or password.", 401)
    context.throttle.succeeded(attempt)
    token = await run_in_threadpool(context.store.sessions.start, user, client)
    response = redirect(safe_next(next))
    set_cookie(request, response, SESSION_COOKIE, token, SESSION_SECONDS)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request, principal: UiUser) -> Response:
    check_form_csrf(principal, await request.form())
    token = request.cookies.get(SESSION_COOKIE, "")
    await run_in_threadpool(web(request).store.sessions.end, token)
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
