"""`/api/v1/me`: who the caller is, and with which role (handy to check a token)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from event_router.web.auth import Viewer

router = APIRouter(tags=["users"])


@router.get("/api/v1/me")
def me(principal: Viewer) -> dict[str, Any]:
    """The authenticated user, the role this request acts with, and how it authenticated."""
    return {**principal.user.to_json(), "acting_role": principal.role.value, "via": principal.via}
