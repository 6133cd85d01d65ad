"""The ASGI app: ingest, health and readiness, status; with a store, the admin API and UI."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from event_router import __version__
from event_router.delivery.view import DeliveryView
from event_router.journal import Journal
from event_router.sources.intake import Intake
from event_router.store import Store
from event_router.web import admin, api_docs, auth, errors, headers, ingest, openapi
from event_router.web.status import consumer_status


def create_app(
    journal: Journal,
    engine: DeliveryView | None,
    *,
    ingest_token: str | None,
    max_body_bytes: int,
    store: Store | None = None,
    secret_key: str | None = None,
    lms_url: str = "http://localhost:18000",
    intake: Intake | None = None,
    session_idle: timedelta | None = None,
    ingest_open: bool = False,
    home: Path | None = None,
) -> FastAPI:
    """The app. With a `store` (and the `secret_key` sessions and anonymous ids derive from) it
    also serves the admin API, UI and /metrics, and /api/v1/status needs a signed-in user;
    `session_idle` ends web sessions unused that long (default: the store's, 30 minutes).
    Ingest takes events only with `ingest_token`, or without one if `ingest_open` says so.
    `home` is where the UI finds a CLI backfill's progress."""
    app = FastAPI(
        title="Open edX Event Router",
        version=__version__,
        docs_url=None,  # api_docs serves it without a CDN
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    headers.install(app)
    api_docs.install(app)
    app.state.ingest = ingest.IngestConfig(
        journal, ingest_token, max_body_bytes, intake, open_without_token=ingest_open
    )
    app.state.engine = engine
    app.state.ready = False
    app.state.source_counts = {}  # source id -> Counter (accepted, malformed, ...), set by `run`
    errors.install(app)
    openapi.install(app)
    app.include_router(ingest.router)

    @app.get("/health", tags=["health"])
    async def health() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/ready", tags=["health"])
    async def ready() -> JSONResponse:
        """The journal is open and delivery has started."""
        ok = bool(app.state.ready)
        return JSONResponse({"ready": ok}, status_code=200 if ok else 503)

    async def status_payload() -> dict[str, Any]:
        count, size = journal.size()
        consumers = engine.snapshot() if engine is not None else {}
        if store is not None:
            consumers = await consumer_status(store, consumers, engine is not None, journal)
        return {
            "journal": {"head": journal.head, "events": count, "bytes": size},
            "sources": journal.positions(),
            "source_counts": {k: dict(v) for k, v in app.state.source_counts.items()},
            "ingest": {
                "accepted": app.state.ingest.accepted,
                "rejected": app.state.ingest.rejected,
                "auth": app.state.ingest.auth,
            },
            "consumers": consumers,
            "privacy": {
                "retired_learners": await run_in_threadpool(store.retired.count) if store else 0,
                "retired_events_dropped": engine.privacy.dropped if engine is not None else 0,
                # The list this process screens with (it reads the store's within a second).
                "retired_in_force": len(engine.privacy.screen.retired) if engine else 0,
            },
        }

    app.state.status_payload = status_payload
    viewer = [Depends(auth.api_viewer)] if store is not None else []

    @app.get("/api/v1/status", tags=["status"], dependencies=viewer)
    async def status() -> dict[str, Any]:
        """Per-consumer delivery figures, journal size and source positions."""
        return await status_payload()

    if store is not None:
        if secret_key is None:
            raise ValueError("the admin API needs the secret key (CSRF tokens derive from it)")
        if session_idle is not None:
            store.sessions.idle = session_idle
        admin.install(
            app, journal, engine, store, secret_key=secret_key, lms_url=lms_url, home=home
        )
    return app
