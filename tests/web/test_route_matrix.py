"""Every route the app serves, enumerated from the app itself (not from a list kept by hand), so a
route added later is checked too: no credentials get 401 (API) or the login page (UI) unless the
route is one of the few opened on purpose; a token bound to a stream consumer and the ingest token
open nothing but what they are for; a viewer changes nothing; every UI form post needs the
session's CSRF token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Route

from event_router.routing.consumer import Consumer
from event_router.web.app import create_app
from tests.web.conftest import VIEWER, Template, Web, make_web

# Open on purpose (docs/web.md): probes, metrics, the login form, the API explorer and document.
OPEN = {
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/metrics"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/api/docs"),
    ("GET", "/api/docs/start.js"),
    ("GET", "/api/openapi.json"),
}
INGEST = ("POST", "/api/v1/events")  # its own token (or opened with EVENT_ROUTER_INGEST_OPEN)
STREAM = ("GET", "/api/v1/stream")  # only tokens bound to a stream consumer
# API changes a viewer may make: they only compute an answer (the playground).
VIEWER_POSTS = {("POST", "/api/v1/playground"), ("POST", "/api/v1/playground/route")}
INGEST_TOKEN = "ingest-secret-token"


def routes(web: Web) -> list[tuple[str, str]]:
    """(method, concrete path) for every route, path parameters filled with plausible values."""
    found = []
    for route in web.app.routes:
        if not isinstance(route, APIRoute | Route):
            continue
        path = re.sub(r"\{[^}]*\}", lambda m: _value(m.group(0)), route.path)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            found.append((method, path))
    return sorted(set(found))


def _value(param: str) -> str:
    return "1" if any(word in param for word in ("id", "position")) else "hose"


@pytest.fixture
def web_ingest(tmp_path: Path, template: Template) -> Iterator[Web]:
    built = make_web(tmp_path, template, with_engine=False)
    built.app = create_app(
        built.journal,
        None,
        ingest_token=INGEST_TOKEN,
        max_body_bytes=1 << 20,
        store=built.store,
        secret_key="web-tests",
        home=tmp_path,
    )
    built.store.consumers.add(Consumer(name="hose", url="stream:", protocol="xapi", sink="stream"))
    yield built
    built.journal.close()
    built.store.close()


def _refused(method: str, path: str, response_status: int, location: str | None) -> bool:
    if path.startswith("/api/"):
        return response_status in (401, 403)
    return response_status == 303 and (location or "").startswith("/login")


def test_the_matrix_sees_the_new_routes(web_ingest: Web) -> None:
    found = routes(web_ingest)
    for expected in (
        ("GET", "/api/v1/audit"),
        ("GET", "/api/v1/consumers/hose/attempts"),
        ("POST", "/api/v1/consumers/hose/retry"),
        ("GET", "/api/v1/users"),
        ("POST", "/api/v1/tokens"),
        ("GET", "/events/1"),
        ("POST", "/admin/config/import"),
        STREAM,
    ):
        assert expected in found


def test_no_route_answers_without_credentials_unless_opened_on_purpose(web_ingest: Web) -> None:
    client = web_ingest.client()
    leaks = []
    for method, path in routes(web_ingest):
        if (method, path) in OPEN:
            continue
        response = client.request(method, path)
        if not _refused(method, path, response.status_code, response.headers.get("location")):
            leaks.append((method, path, response.status_code))
    assert leaks == []


@pytest.mark.parametrize("who", ["stream", "ingest"])
def test_stream_and_ingest_tokens_open_nothing_else(web_ingest: Web, who: str) -> None:
    if who == "stream":
        _, token = web_ingest.store.tokens.create("alice", "subscriber", consumer="hose")
    else:
        token = INGEST_TOKEN
    client = web_ingest.client()
    client.headers["Authorization"] = f"Bearer {token}"
    own = STREAM if who == "stream" else INGEST
    leaks = []
    for method, path in routes(web_ingest):
        if (method, path) in OPEN or (method, path) == own:
            continue
        response = client.request(method, path)
        if not _refused(method, path, response.status_code, response.headers.get("location")):
            leaks.append((method, path, response.status_code))
    assert leaks == []


def test_viewers_change_nothing_through_the_api(web_ingest: Web) -> None:
    client = web_ingest.viewer()
    leaks = []
    for method, path in routes(web_ingest):
        if method == "GET" or not path.startswith("/api/") or (method, path) in VIEWER_POSTS:
            continue
        if (method, path) == INGEST:
            continue
        response = client.request(method, path, json={})
        if response.status_code != 403:
            leaks.append((method, path, response.status_code))
    assert leaks == []


def test_viewers_get_no_admin_page(web_ingest: Web) -> None:
    session = web_ingest.login(VIEWER, "victor-password")
    leaks = []
    for method, path in routes(web_ingest):
        if method != "GET" or not path.startswith("/admin"):
            continue
        response = session.client.request(method, path)
        if response.status_code != 403:
            leaks.append((method, path, response.status_code))
    assert leaks == []


def test_every_ui_form_post_needs_the_csrf_token(web_ingest: Web) -> None:
    session = web_ingest.login()
    leaks = []
    for method, path in routes(web_ingest):
        if method != "POST" or path.startswith("/api/") or (method, path) in OPEN:
            continue
        response = session.client.post(path, data={"csrf_token": "forged"})
        if response.status_code != 403:
            leaks.append((method, path, response.status_code))
        # The session is still signed in (nothing was done, not even a sign-out).
        assert session.client.get("/api/v1/me").status_code == 200
    assert leaks == []


def test_every_api_change_with_a_session_needs_the_csrf_header(web_ingest: Web) -> None:
    session = web_ingest.login()
    leaks = []
    for method, path in routes(web_ingest):
        if method == "GET" or not path.startswith("/api/") or (method, path) == INGEST:
            continue
        response = session.client.request(method, path, json={})
        if response.status_code != 403:
            leaks.append((method, path, response.status_code))
    assert leaks == []
