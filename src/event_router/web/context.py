"""What the admin API and UI work with, gathered once on the app: one place to look them up."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import Request

from event_router.journal import Journal
from event_router.store import Store

if TYPE_CHECKING:
    from event_router.delivery.view import DeliveryView
    from event_router.web.auth import CsrfTokens
    from event_router.web.login_limits import HashingGate, LoginThrottle
    from event_router.web.metrics import Exporter


@dataclass
class WebContext:
    """The journal, the engine (None when delivery does not run in this process), the store, and
    what translation and sessions need from the settings."""

    journal: Journal
    engine: DeliveryView | None
    store: Store
    secret_key: str
    lms_url: str
    csrf: CsrfTokens
    throttle: LoginThrottle
    hashing: HashingGate
    exporter: Exporter
    home: Path | None = None  # where a CLI backfill writes its progress (None: not known)


def web(request: Request) -> WebContext:
    context: WebContext = request.app.state.web
    return context
