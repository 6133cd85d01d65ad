"""UI pages only admins see: users and API tokens, the audit log, and backfill progress.

Every change goes through the same store methods as the CLI and the API, so it is checked and
audited the same way. A new token is shown once, in the answer to the form that created it:
never put in the session's flash message (which the database keeps) nor in a URL.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from event_router.backfill import progress
from event_router.store import InvalidUser, Role, StoreError
from event_router.store.audit import describe
from event_router.web.auth import Principal, UiAdmin, check_form_csrf
from event_router.web.context import web
from event_router.web.errors import MAX_ID, RowId
from event_router.web.ui import flash, redirect, render

router = APIRouter(include_in_schema=False)
PAGE = 50
ROLES = [r.value for r in Role]


# -- users and tokens --


def _users_page(
    request: Request,
    principal: Principal,
    status_code: int = 200,
    *,
    new_token: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    store = web(request).store
    return render(
        request,
        "admin_users.html",
        principal,
        status_code,
        users=store.users.list(),
        tokens=store.tokens.list(),
        roles=ROLES,
        new_token=new_token,
        errors=errors or {},
        values=values or {},
        active="admin",
        section="users",
    )


@router.get("/admin/users")
def users_page(request: Request, principal: UiAdmin) -> Response:
    return _users_page(request, principal)


async def _form(request: Request, principal: Principal) -> dict[str, str]:
    submitted = await request.form()
    check_form_csrf(principal, submitted)
    return {key: str(value) for key, value in submitted.items() if isinstance(value, str)}


@router.post("/admin/users")
async def add_user(request: Request, principal: UiAdmin) -> Response:
    form = await _form(request, principal)
    username, password = form.get("username", "").strip(), form.get("password", "")
    errors = {}
    if not username:
        errors["username"] = "enter a user name"
    if len(password) < 8:
        errors["password"] = "at least 8 characters"
    if form.get("password") != form.get("password2"):
        errors["password2"] = "the two passwords differ"
    values = {"username": username, "role": form.get("role", "viewer")}
    if not errors:
        try:
            await run_in_threadpool(
                web(request).store.users.add, username, password, form.get("role", "viewer")
            )
        except (InvalidUser, ValueError) as exc:
            errors["username"] = str(exc)
        except StoreError as exc:  # a name taken
            errors["username"] = str(exc)
    if errors:
        return _users_page(request, principal, 400, errors=errors, values=values)
    await flash(request, principal, f"Added {values['role']} {username}.")
    return redirect("/admin/users")


@router.post("/admin/users/{username}/role")
async def set_role(request: Request, principal: UiAdmin, username: str) -> Response:
    form = await _form(request, principal)
    role = form.get("role", "")
    if username.lower() == principal.user.username.lower() and role != "admin":
        return _users_page(
            request, principal, 400, errors={"general": "you cannot demote yourself"}
        )
    return await _change(
        request,
        principal,
        lambda: web(request).store.users.set_role(username, role),
        f"{username} is now a {role}; their sessions have ended.",
    )


@router.post("/admin/users/{username}/remove")
async def remove_user(request: Request, principal: UiAdmin, username: str) -> Response:
    await _form(request, principal)
    if username.lower() == principal.user.username.lower():
        return _users_page(
            request, principal, 400, errors={"general": "you cannot remove yourself"}
        )
    return await _change(
        request,
        principal,
        lambda: web(request).store.users.remove(username),
        f"Removed {username}, their tokens and sessions.",
    )


@router.post("/admin/users/{username}/sign-out")
async def sign_out_user(request: Request, principal: UiAdmin, username: str) -> Response:
    await _form(request, principal)
    return await _change(
        request,
        principal,
        lambda: web(request).store.sessions.end_all(username),
        f"Signed {username} out everywhere.",
    )


@router.post("/admin/tokens")
async def create_token(request: Request, principal: UiAdmin) -> Response:
    form = await _form(request, principal)
    values = {key: form.get(key, "") for key in ("token_user", "token_name", "token_role")}
    try:
        _, secret = await run_in_threadpool(
            web(request).store.tokens.create,
            values["token_user"],
            values["token_name"],
            values["token_role"] or None,
        )
    except (StoreError, ValueError) as exc:
        return _users_page(request, principal, 400, errors={"token": str(exc)}, values=values)
    # Shown in this answer only (no-store), never again.
    return _users_page(request, principal, 201, new_token=secret)


@router.post("/admin/tokens/{token_id}/revoke")
async def revoke_token(request: Request, principal: UiAdmin, token_id: RowId) -> Response:
    await _form(request, principal)
    return await _change(
        request,
        principal,
        lambda: web(request).store.tokens.revoke(token_id),
        f"Revoked token {token_id}.",
    )


async def _change(request: Request, principal: Principal, change: Any, done: str) -> Response:
    try:
        await run_in_threadpool(change)
    except (StoreError, ValueError) as exc:
        return _users_page(request, principal, 400, errors={"general": str(exc)})
    await flash(request, principal, done)
    return redirect("/admin/users")


# -- the audit log --


@router.get("/admin/audit")
def audit_page(
    request: Request,
    principal: UiAdmin,
    actor: Annotated[str, Query(max_length=200)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
    target: Annotated[str, Query(max_length=255)] = "",
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> Response:
    entries, total = web(request).store.audit.list(
        limit=PAGE, offset=offset, actor=actor or None, action=action or None, target=target or None
    )

    def page(at: int) -> str:
        query = {"actor": actor, "action": action, "target": target, "offset": at}
        return "/admin/audit?" + urlencode(query)

    return render(
        request,
        "admin_audit.html",
        principal,
        entries=[(entry, describe(entry)) for entry in entries],
        total=total,
        actor=actor,
        action=action,
        target=target,
        offset=offset,
        previous=page(max(0, offset - PAGE)) if offset else None,
        next=page(offset + PAGE) if offset + len(entries) < total else None,
        active="admin",
        section="audit",
    )


# -- backfill progress --


@router.get("/admin/backfill")
def backfill_page(request: Request, principal: UiAdmin) -> Response:
    home = web(request).home
    record = progress.read(home) if home is not None else None
    return render(
        request,
        "admin_backfill.html",
        principal,
        record=record,
        home=home,
        active="admin",
        section="backfill",
    )
