"""Who is asking, a session cookie (the UI) or an API token (automation), and what they may do.

Sessions live server-side (`store.sessions`): the cookie holds a random token, the database only
its hash, so a session ends for good at sign-out, when the user's password or role changes, when
the user is removed, after `EVENT_ROUTER_SESSION_IDLE_MINUTES` unused, or when an operator revokes
it. The cookie is HttpOnly, SameSite=Lax, and Secure over HTTPS (as the client sees it, through
trusted proxies). Requests that change something with a session must also carry the session's
CSRF token (a form field, or the `X-CSRF-Token` header for fetch calls), an HMAC of the session
token; token-authenticated requests need none, since a browser never attaches a bearer token on
its own.

API answers 401 to the unauthenticated and 403 to viewers changing things; UI pages redirect to
the login page instead.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from event_router.store import Role, User, set_actor
from event_router.store.sessions import LIFETIME
from event_router.web.context import web
from event_router.web.errors import ApiError

SESSION_COOKIE = "er_session"
LOGIN_COOKIE = "er_login"  # double-submit CSRF token of the login form (no session yet)
SESSION_SECONDS = int(LIFETIME.total_seconds())
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: the user, the role this request acts with, and how it came in;
    with a session, its id, its CSRF token and the message it held for this page."""

    user: User
    role: Role
    via: Literal["session", "token"]
    csrf: str | None = None
    session_id: int | None = None
    flash: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


class CsrfTokens:
    """The CSRF token of a session: an HMAC of its token, so nothing more is stored."""

    def __init__(self, secret_key: str) -> None:
        # A key of its own, so this never doubles as anything else derived from the secret.
        self._key = hmac.new(secret_key.encode(), b"event-router csrf", hashlib.sha256).digest()

    def of(self, session_token: str) -> str:
        return hmac.new(self._key, session_token.encode(), hashlib.sha256).hexdigest()


def client_address(request: Request) -> str:
    """The client's address (the proxy's view when the proxy is trusted, see docs/web.md)."""
    return request.client.host if request.client else "unknown"


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def authenticate(request: Request, *, take_flash: bool = False) -> Principal | None:
    """The caller, from `Authorization: Bearer` if present (and then only from it), else from the
    session cookie. Blocking (database, hashing): call from a worker thread."""
    context = web(request)
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            return None
        found = context.store.tokens.authenticate(credentials.strip())
        return Principal(found[0], found[1], "token") if found else None
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    active = context.store.sessions.resume(token, take_flash=take_flash)
    if active is None:
        return None
    user = active.user
    csrf = context.csrf.of(token)
    return Principal(user, user.role, "session", csrf, active.session_id, active.flash)


def csrf_ok(principal: Principal, supplied: str | None) -> bool:
    if principal.via == "token":
        return True
    return bool(supplied and principal.csrf and hmac.compare_digest(supplied, principal.csrf))


# -- the API: 401 / 403 as JSON --


def act_for(principal: Principal) -> None:
    """What this request changes is logged as done by `principal` (store/audit.py): set here,
    in the request's own task, so the endpoint (and the worker threads it calls) see it."""
    set_actor(principal.user.username, "ui" if principal.via == "session" else "api")


async def api_viewer(request: Request) -> Principal:
    """Any signed-in user or valid token; with a session, changes need the CSRF header."""
    principal = await run_in_threadpool(authenticate, request)
    if principal is None:
        raise ApiError(
            401,
            "authentication required: sign in, or send Authorization: Bearer <API token>",
            headers={"WWW-Authenticate": 'Bearer realm="event-router"'},
        )
    if request.method not in SAFE_METHODS and not csrf_ok(
        principal, request.headers.get(CSRF_HEADER)
    ):
        raise ApiError(403, f"missing or wrong {CSRF_HEADER} header (required with a session)")
    act_for(principal)
    return principal


def api_admin(principal: Annotated[Principal, Depends(api_viewer)]) -> Principal:
    if not principal.is_admin:
        raise ApiError(403, f"{principal.user.username} is a viewer: only admins change things")
    return principal


Viewer = Annotated[Principal, Depends(api_viewer)]
Admin = Annotated[Principal, Depends(api_admin)]


# -- the UI: redirect to the login page --


class LoginRequired(Exception):
    """Raised by UI dependencies; answered with a redirect to /login?next=…"""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class Forbidden(Exception):
    """A viewer asked a UI page to change something (answered with a 403 page)."""


async def ui_user(request: Request) -> Principal:
    principal = await run_in_threadpool(authenticate, request, take_flash=True)
    if principal is None or principal.via != "session":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    act_for(principal)
    return principal


def ui_admin(principal: Annotated[Principal, Depends(ui_user)]) -> Principal:
    if not principal.is_admin:
        raise Forbidden(f"{principal.user.username} is a viewer: only admins change things")
    return principal


UiUser = Annotated[Principal, Depends(ui_user)]
UiAdmin = Annotated[Principal, Depends(ui_admin)]


def check_form_csrf(principal: Principal, form: Any) -> None:
    """A UI form post must carry the session's CSRF token."""
    value = form.get("csrf_token")
    if not csrf_ok(principal, value if isinstance(value, str) else None):
        raise Forbidden("the form has expired or did not come from this site: reload and retry")


def safe_next(value: str | None) -> str:
    """Only a path on this site: never `//host` or `https://host` (an open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value
