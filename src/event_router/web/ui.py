"""The admin UI: server-rendered pages (Jinja2) with a little vanilla JavaScript for live figures.

No build step and no inline script: pages send a Content-Security-Policy that allows only this
site's own scripts and styles. This module holds the page plumbing, sign-in, the dashboard and the
playground; consumers and dead letters have modules of their own.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from event_router import __version__
from event_router.events import NormaliseError
from event_router.web.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Forbidden,
    LoginRequired,
    Principal,
    UiUser,
    authenticate,
    check_form_csrf,
    safe_next,
    set_cookie,
)
from event_router.web.context import web
from event_router.web.playground import SAMPLE, parse_event, summary, try_event

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["json"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False)
templates.env.filters["number"] = lambda value: f"{value:,}" if isinstance(value, int) else value


def _size(value: int) -> str:
    """Bytes for people: 1.2 MB."""
    amount = float(value)
    for unit in ("B", "kB", "MB", "GB"):
        if amount < 1000 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    return f"{amount:.1f} TB"


templates.env.filters["size"] = _size
router = APIRouter(include_in_schema=False)

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def render(
    request: Request,
    template: str,
    principal: Principal | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    response = templates.TemplateResponse(
        request,
        template,
        {
            "user": principal.user if principal else None,
            "is_admin": bool(principal and principal.is_admin),
            "csrf": principal.csrf if principal else None,
            "version": __version__,
            **context,
        },
        status_code=status_code,
    )
    response.headers.update(SECURITY_HEADERS)
    return response


class PageNotFound(Exception):
    """Answered with a 404 page."""


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def install(app: FastAPI) -> None:
    """Pages, static files, and the answers to LoginRequired and Forbidden."""
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        from urllib.parse import quote

        return redirect(f"/login?next={quote(exc.next_url, safe='/')}")

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        principal = await run_in_threadpool(authenticate, request)
        return render(request, "error.html", principal, 403, title="Not allowed", message=str(exc))

    @app.exception_handler(PageNotFound)
    async def _not_found(request: Request, exc: PageNotFound) -> Response:
        principal = await run_in_threadpool(authenticate, request)
        return render(request, "error.html", principal, 404, title="Not found", message=str(exc))

    app.state.error_page = error_page


async def error_page(request: Request, status: int, title: str, message: str) -> Response:
    """The HTML answer to a failed page request (web.errors picks it for non-API paths)."""
    try:
        principal = await run_in_threadpool(authenticate, request)
    except Exception:  # the failure being reported may be the store itself
        principal = None
    return render(request, "error.html", principal, status, title=title, message=message)


# -- sign in and out --


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    principal = authenticate(request)
    if principal is not None and principal.via == "session":
        return redirect(safe_next(next))
    return _login_form(request, next)


def _login_form(
    request: Request, next_url: str | None, error: str | None = None, status_code: int = 200
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
    return response


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    context = web(request)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return _login_form(request, next, "The form expired: please sign in again.", 400)
    wait = context.throttle.wait(username)
    if wait > 0:
        message = f"Too many failed attempts: try again in {int(wait) + 1} s."
        return _login_form(request, next, message, 429)
    user = context.store.users.authenticate(username, password)
    if user is None:
        context.throttle.failed(username)
        return _login_form(request, next, "Wrong user name or password.", 401)
    context.throttle.succeeded(username)
    response = redirect(safe_next(next))
    cookie = context.sessions.issue(user)
    set_cookie(request, response, SESSION_COOKIE, cookie, context.sessions.max_age)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request, principal: UiUser) -> Response:
    check_form_csrf(principal, await request.form())
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- dashboard --


@router.get("/")
async def dashboard(request: Request, principal: UiUser) -> Response:
    status = await request.app.state.status_payload()
    return render(
        request, "dashboard.html", principal, status=status, consumers=status["consumers"]
    )


# -- playground --


@router.get("/playground")
def playground_page(request: Request, principal: UiUser) -> Response:
    text = json.dumps(SAMPLE, indent=2)
    has_consumers = bool(web(request).store.consumers.records())
    return _playground(request, principal, text, has_consumers)


@router.post("/playground")
async def playground_try(request: Request, principal: UiUser) -> Response:
    form = await request.form()
    check_form_csrf(principal, form)
    text = str(form.get("event", ""))
    context = web(request)
    try:
        event = parse_event(text)
    except NormaliseError as exc:
        return _playground(request, principal, text, True, error=str(exc), status_code=400)
    results = await run_in_threadpool(try_event, context, event)
    return _playground(request, principal, text, bool(results), summary(event), results)


def _playground(
    request: Request,
    principal: Principal,
    text: str,
    has_consumers: bool,
    event: dict[str, Any] | None = None,
    results: list[dict[str, Any]] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "playground.html",
        principal,
        status_code,
        text=text,
        event=event,
        results=results,
        error=error,
        has_consumers=has_consumers,
        active="playground",
    )
