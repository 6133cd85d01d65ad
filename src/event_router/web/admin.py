"""Everything the admin side adds to the app: REST API, UI, metrics, and their error handling."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from event_router.delivery.view import DeliveryView
from event_router.journal import Journal
from event_router.store import Store
from event_router.web import (
    api_attempts,
    api_audit,
    api_consumers,
    api_dead_letters,
    api_history,
    api_inspector,
    api_learners,
    api_playground,
    api_stream,
    api_users,
    metrics,
    ui,
    ui_admin,
    ui_config,
    ui_consumers,
    ui_dead_letters,
    ui_inspector,
    ui_login,
)
from event_router.web.auth import CsrfTokens
from event_router.web.context import WebContext
from event_router.web.login_limits import HashingGate, LoginThrottle


def install(
    app: FastAPI,
    journal: Journal,
    engine: DeliveryView | None,
    store: Store,
    *,
    secret_key: str,
    lms_url: str,
    home: Path | None = None,
) -> None:
    app.state.web = WebContext(
        journal=journal,
        engine=engine,
        store=store,
        secret_key=secret_key,
        lms_url=lms_url,
        csrf=CsrfTokens(secret_key),
        throttle=LoginThrottle(),
        hashing=HashingGate(),
        exporter=metrics.Exporter(),
        home=home,
    )
    for api in (
        api_audit,
        api_attempts,
        api_consumers,
        api_dead_letters,
        api_history,
        api_inspector,
        api_learners,
        api_playground,
        api_stream,
        api_users,
        metrics,
    ):
        app.include_router(api.router)
    ui.install(app)
    for pages in (
        ui, ui_login, ui_consumers, ui_dead_letters, ui_inspector, ui_admin, ui_config,
    ):  # fmt: skip
        app.include_router(pages.router)
