"""`/api/v1/me`, `/api/v1/users` and `/api/v1/tokens`: who the caller is; users and API tokens
(admins only), as `event-router users` / `tokens` and the UI's Admin page manage them.

A new token is in the answer to its creation only: only its SHA-256 is stored.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from event_router.store import Role
from event_router.web.auth import Admin, Viewer
from event_router.web.context import web
from event_router.web.errors import MAX_ID, ApiError

router = APIRouter(tags=["users"])


@router.get("/api/v1/me")
def me(principal: Viewer) -> dict[str, Any]:
    """The authenticated user, the role this request acts with, and how it authenticated."""
    return {**principal.user.to_json(), "acting_role": principal.role.value, "via": principal.via}


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=8, max_length=1024, description="Hashed with Argon2id.")
    role: Role = Role.VIEWER


class RoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1, max_length=150)
    name: str = Field(min_length=1, max_length=100)
    role: Role | None = Field(default=None, description="At most the user's (default: theirs).")


Username = Annotated[str, Path(max_length=150)]


@router.get("/api/v1/users")
def list_users(request: Request, principal: Admin) -> dict[str, Any]:
    """Every user and their role."""
    return {"users": [user.to_json() for user in web(request).store.users.list()]}


@router.post("/api/v1/users", status_code=201)
async def add_user(request: Request, principal: Admin, body: NewUser) -> dict[str, Any]:
    """Add a user (409 if the name is taken, whatever its case)."""
    users = web(request).store.users
    added = await run_in_threadpool(users.add, body.username, body.password, body.role)
    return added.to_json()


@router.patch("/api/v1/users/{username}")
def set_role(
    request: Request, principal: Admin, username: Username, body: RoleChange
) -> dict[str, Any]:
    """Change a user's role; their sessions end. An admin cannot demote themselves."""
    _not_self(principal.user.username, username, body.role is not Role.ADMIN, "demote")
    users = web(request).store.users
    users.set_role(username, body.role)
    return users.get(username).to_json()


@router.delete("/api/v1/users/{username}", status_code=204, response_class=Response)
def remove_user(request: Request, principal: Admin, username: Username) -> Response:
    """Remove a user, their tokens and their sessions."""
    _not_self(principal.user.username, username, True, "remove")
    web(request).store.users.remove(username)
    return Response(status_code=204)


@router.get("/api/v1/tokens")
def list_tokens(request: Request, principal: Admin) -> dict[str, Any]:
    """Every API token: id, name, user, role, first characters, created, last used."""
    return {"tokens": [token.to_json() for token in web(request).store.tokens.list()]}


@router.post("/api/v1/tokens", status_code=201)
def create_token(request: Request, principal: Admin, body: NewToken) -> dict[str, Any]:
    """Create a token; `token` is in this answer only and cannot be shown again."""
    record, secret = web(request).store.tokens.create(body.user, body.name, body.role)
    return {**record.to_json(), "token": secret}


@router.delete("/api/v1/tokens/{token_id}", status_code=204, response_class=Response)
def revoke_token(
    request: Request, principal: Admin, token_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Response:
    """Revoke a token: requests with it are refused at once."""
    web(request).store.tokens.revoke(token_id)
    return Response(status_code=204)


def _not_self(caller: str, username: str, applies: bool, what: str) -> None:
    if applies and caller.lower() == username.lower():
        raise ApiError(400, f"you cannot {what} yourself (another admin can)")
