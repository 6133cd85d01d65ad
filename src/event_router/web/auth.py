"""Who is asking, a session cookie (the UI) or an API token (automation), and what they may do.

Sessions are stateless signed cookies (itsdangerous, keyed by a key derived from the router's
secret key): HttpOnly, SameSite=Lax, Secure over HTTPS. Each carries the user's `session_key`, which
changes with the password, so a password change or a removed user ends every session at the next
request. Requests that change something with a session must also carry the session's CSRF token
(a form field, or the `X-CSRF-Token` header for fetch calls); token-authenticated requests need
none, since a browser never attaches a bearer token on its own.

API answers 401 to the unauthenticated and 403 to viewers changing things; UI pages redirect to
the login page instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import deque
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from event_router.store import Role, UnknownUser, User
from event_router.web.context import web
from event_router.web.errors import ApiError

SESSION_COOKIE = "er_session"
LOGIN_COOKIE = "er_login"  # double-submit CSRF token of the login form (no session yet)
SESSION_SECONDS = 12 * 3600
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: the user, the role this request acts with, and how it came in."""

    user: User
    role: Role
    via: Literal["session", "token"]
    csrf: str | None = None  # the session's CSRF token

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


class Sessions:
    """Signs and reads session cookies."""

    def __init__(self, secret_key: str, max_age: int = SESSION_SECONDS) -> None:
        # A key of its own, so a session signature never doubles as anything else signed with
        # the router's secret (anonymous ids, webhooks).
        key = hmac.new(secret_key.encode(), b"event-router web sessions", hashlib.sha256)
        self._signer = URLSafeTimedSerializer(key.hexdigest(), salt="session")
        self.max_age = max_age

    def issue(self, user: User) -> str:
        payload = {"u": user.username, "k": user.session_key, "c": secrets.token_urlsafe(24)}
        return self._signer.dumps(payload)

    def read(self, value: str) -> dict[str, str] | None:
        try:
            data = self._signer.loads(value, max_age=self.max_age)
        except BadSignature:  # tampered, or expired (SignatureExpired is a BadSignature)
            return None
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in "ukc"):
            return None
        return data


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


def authenticate(request: Request) -> Principal | None:
    """The caller, from `Authorization: Bearer` if present (and then only from it), else from the
    session cookie. Blocking (database, hashing): call from a worker thread."""
    context = web(request)
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            return None
        found = context.store.users.authenticate_token(credentials.strip())
        return Principal(found[0], found[1], "token") if found else None
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    data = context.sessions.read(cookie)
    if data is None:
        return None
    try:
        user = context.store.users.get(data["u"])
    except UnknownUser:
        return None
    if not hmac.compare_digest(user.session_key, data["k"]):
        return None  # the password changed since this session began
    return Principal(user, user.role, "session", data["c"])


def csrf_ok(principal: Principal, supplied: str | None) -> bool:
    if principal.via == "token":
        return True
    return bool(supplied and principal.csrf and hmac.compare_digest(supplied, principal.csrf))


# -- the API: 401 / 403 as JSON --


def api_viewer(request: Request) -> Principal:
    """Any signed-in user or valid token; with a session, changes need the CSRF header."""
    principal = authenticate(request)
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


def ui_user(request: Request) -> Principal:
    principal = authenticate(request)
    if principal is None or principal.via != "session":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
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


class LoginThrottle:
    """Slows password guessing: after `limit` failures for a name within `window` seconds, that
    name is refused until the oldest failure leaves the window. In memory, per process."""

    def __init__(self, limit: int = 5, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}

    def wait(self, username: str) -> float:
        """Seconds to wait before trying this name again (0: go ahead)."""
        failures = self._failures.get(username.lower())
        if not failures:
            return 0.0
        now = time.monotonic()
        while failures and now - failures[0] > self.window:
            failures.popleft()
        if len(failures) < self.limit:
            return 0.0
        return self.window - (now - failures[0])

    def failed(self, username: str) -> None:
        if len(self._failures) > 10_000:  # bounded: forget everyone rather than grow forever
            self._failures.clear()
        self._failures.setdefault(username.lower(), deque(maxlen=self.limit)).append(
            time.monotonic()
        )

    def succeeded(self, username: str) -> None:
        self._failures.pop(username.lower(), None)
