"""The admin UI: server-rendered pages (Jinja2) with a little vanilla JavaScript for live figures.

No build step and no inline script: every answer carries a Content-Security-Policy that allows
only this site's own scripts and styles (web/headers.py). This module holds the page plumbing,
the dashboard and the playground; sign-in, consumers and dead letters have modules of their own.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from event_router import __version__
from event_router.events import NormaliseError
from event_router.web.auth import (
    Forbidden,
    LoginRequired,
    Principal,
    UiUser,
    authenticate,
    check_form_csrf,
)
from event_router.web.context import web
from event_router.web.history_panel import panel
from event_router.web.playground import SAMPLE, parse_event, summary, try_event
from event_router.web.status import rejected_lines

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


def duration(milliseconds: float | None) -> str:
    """A latency for people: 0.4 ms, 12 ms, 1.2 s, 2.5 min (app.js `duration` says the same)."""
    if milliseconds is None:
        return "\u2013"  # an en dash: no figure
    if milliseconds < 10:
        return f"{milliseconds:.1f} ms"
    if milliseconds < 1000:
        return f"{milliseconds:.0f} ms"
    if milliseconds < 60_000:
        return f"{milliseconds / 1000:.1f} s"
    return f"{milliseconds / 60_000:.1f} min"


def _epoch(value: float | None) -> str:
    """Epoch seconds as a UTC time for people."""
    if value is None:
        return "\u2013"
    return datetime.fromtimestamp(float(value), UTC).strftime("%Y-%m-%d %H:%M:%S")


templates.env.filters["size"] = _size
templates.env.filters["utc"] = lambda moment: time.strftime(
    "%Y-%m-%d %H:%M:%S", time.gmtime(float(moment))
)
templates.env.filters["epoch"] = _epoch
templates.env.filters["duration"] = duration
router = APIRouter(include_in_schema=False)


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
            "flash": principal.flash if principal else None,
            "version": __version__,
            **context,
        },
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"  # the security headers: web/headers.py
    return response


async def flash(request: Request, principal: Principal, message: str) -> None:
    """Show `message` once, on this session's next page. Banners come only from here (text the
    server wrote), never from a URL, where anyone could write a convincing one."""
    if principal.session_id is not None:
        sessions = web(request).store.sessions
        await run_in_threadpool(sessions.set_flash, principal.session_id, message)


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


# -- dashboard --


@router.get("/")
async def dashboard(request: Request, principal: UiUser) -> Response:
    status = await request.app.state.status_payload()
    return render(
        request,
        "dashboard.html",
        principal,
        status=status,
        consumers=status["consumers"],
        rejected_lines=rejected_lines(status["source_counts"]),
        history=await panel(request),
        active="dashboard",
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
