"""The admin app in-process, on a real journal and store, with real users and tokens.

Hashing a password with Argon2 takes ~0.1 s, so the users (an admin, a viewer) and their tokens are
made once per session in a template database that each test copies.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from event_router.delivery.cursor import CursorReaders
from event_router.delivery.engine import Engine
from event_router.journal import SqliteJournal
from event_router.sinks.destinations import Destinations
from event_router.store import Store
from event_router.web.app import create_app

SECRET = "web-tests"
LMS = "http://localhost:18000"
ADMIN, ADMIN_PASSWORD = "alice", "alice-password"
VIEWER, VIEWER_PASSWORD = "victor", "victor-password"


@dataclass(frozen=True)
class Template:
    path: Path
    admin_token: str
    viewer_token: str


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    path = tmp_path_factory.mktemp("template") / "control.db"
    with Store.open(f"sqlite:///{path}") as store:
        store.users.add(ADMIN, ADMIN_PASSWORD, "admin")
        store.users.add(VIEWER, VIEWER_PASSWORD, "viewer")
        admin_token = store.tokens.create(ADMIN, "tests")[1]
        viewer_token = store.tokens.create(VIEWER, "tests")[1]
    return Template(path, admin_token, viewer_token)


@dataclass
class Web:
    """The app and what it runs on; `client()` gives an unauthenticated browser-like client."""

    app: FastAPI
    store: Store
    journal: SqliteJournal
    engine: Engine | None
    admin_token: str
    viewer_token: str
    home: Path

    def client(self) -> TestClient:
        return TestClient(self.app, follow_redirects=False)

    def admin(self) -> TestClient:
        client = self.client()
        client.headers["Authorization"] = f"Bearer {self.admin_token}"
        return client

    def viewer(self) -> TestClient:
        client = self.client()
        client.headers["Authorization"] = f"Bearer {self.viewer_token}"
        return client

    def login(self, username: str = ADMIN, password: str = ADMIN_PASSWORD) -> Session:
        client = self.client()
        page = client.get("/login")
        response = client.post(
            "/login",
            data={
                "username": username,
                "password": password,
                "csrf_token": form_token(page.text),
                "next": "/",
            },
        )
        assert response.status_code == 303, response.text
        csrf = meta_token(client.get("/").text)
        return Session(client, csrf)


@dataclass
class Session:
    """A signed-in browser-like client and its CSRF token."""

    client: TestClient
    csrf: str


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def meta_token(html: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert found, "no CSRF meta tag in the page"
    return found.group(1)


def make_web(
    home: Path,
    template: Template,
    with_engine: bool,
    session_idle: timedelta | None = None,
    ingest_open: bool = False,
) -> Web:
    shutil.copy(template.path, home / "control.db")
    # Consumers are checked as `run --home <home>` checks them (no allow-list).
    store = Store.open(
        f"sqlite:///{home / 'control.db'}",
        secret_key=SECRET,
        destinations=Destinations(None, home / "archives"),
    )
    journal = SqliteJournal(home / "journal.db")
    readers = CursorReaders(journal)
    engine = Engine(readers, store, lms_url=LMS, secret_key=SECRET) if with_engine else None
    app = create_app(
        journal,
        engine,
        ingest_token=None,
        max_body_bytes=1 << 20,
        store=store,
        secret_key=SECRET,
        lms_url=LMS,
        session_idle=session_idle,
        ingest_open=ingest_open,
        home=home,
    )
    return Web(app, store, journal, engine, template.admin_token, template.viewer_token, home)


@pytest.fixture
def web(tmp_path: Path, template: Template) -> Iterator[Web]:
    """The app without a delivery engine (as when the API runs apart from delivery)."""
    built = make_web(tmp_path, template, with_engine=False)
    yield built
    built.journal.close()
    built.store.close()


@pytest.fixture
def web_engine(tmp_path: Path, template: Template) -> Iterator[Web]:
    """The app with an Engine object (not running): its per-consumer Stats are what status and
    metrics read."""
    built = make_web(tmp_path, template, with_engine=True)
    yield built
    built.journal.close()
    built.store.close()
