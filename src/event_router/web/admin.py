"""Everything the admin side adds to the app: REST API, UI, metrics, and their error handling."""

from __future__ import annotations

from fastapi import FastAPI

from event_router.delivery.view import DeliveryView
from event_router.journal import Journal
from event_router.store import Store
from event_router.web import (
    api_attempts,
    api_consumers,
    api_dead_letters,
    api_learners,
    api_playground,
    api_stream,
    api_users,
    metrics,
    ui,
    ui_consumers,
    ui_dead_letters,
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
    )
    apis = (
        api_consumers,
        api_attempts,
        api_dead_letters,
        api_learners,
        api_playground,
        api_stream,
        api_users,
    )
    for api in (*apis, metrics):
        app.include_router(api.router)
    ui.install(app)
    for pages in (ui, ui_login, ui_consumers, ui_dead_letters):
        app.include_router(pages.router)
