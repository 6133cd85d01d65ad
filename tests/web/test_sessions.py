"""Sessions that end when they should, banners only the server wrote, and the security headers on
every answer (in-process app; the proxy and concurrency cases run against a real router in
test_login_limits.py)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from event_router.store.database import utcnow
from event_router.store.schema import web_sessions
from event_router.web.auth import SESSION_COOKIE
from event_router.web.headers import DOCS_POLICY, PAGE_POLICY
from tests.web.conftest import ADMIN, Template, Web, make_web

TEMPLATES = Path(__file__).resolve().parents[2] / "src/event_router/web/templates"


def _replay(web: Web, cookie: str) -> int:
    """A fresh client presenting a copied session cookie: the status of /api/v1/me."""
    client = web.client()
    client.cookies.set(SESSION_COOKIE, cookie)
    return client.get("/api/v1/me").status_code


def test_a_cookie_copied_before_sign_out_is_refused_after_it(web: Web) -> None:
    """The cookie used to be a signed, stateless value valid for 12 h: sign-out only asked the
    browser to forget it, and a copy (a stolen cookie) went on working."""
    session = web.login()
    copied = session.client.cookies[SESSION_COOKIE]
    assert _replay(web, copied) == 200
    assert session.client.post("/logout", data={"csrf_token": session.csrf}).status_code == 303
    assert _replay(web, copied) == 401


def test_a_role_change_ends_the_session(web: Web) -> None:
    session = web.login()
    copied = session.client.cookies[SESSION_COOKIE]
    web.store.users.set_role(ADMIN, "viewer")
    assert _replay(web, copied) == 401
    assert session.client.get("/").headers["location"] == "/login?next=/"


def test_revoking_a_users_sessions_signs_them_out_everywhere(web: Web) -> None:
    first, second = web.login(), web.login()
    assert web.store.sessions.end_all(ADMIN) == 2
    assert first.client.get("/api/v1/me").status_code == 401
    assert second.client.get("/api/v1/me").status_code == 401


def test_an_idle_session_ends_after_the_configured_time(tmp_path: Path, template: Template) -> None:
    web = make_web(tmp_path, template, with_engine=False, session_idle=timedelta(minutes=5))
    try:
        session = web.login()
        assert session.client.get("/api/v1/me").status_code == 200
        with web.store._db.write() as conn:  # six minutes without a request
            six_ago = utcnow() - timedelta(minutes=6)
            conn.execute(sa.update(web_sessions).values(last_seen_at=six_ago))
        assert session.client.get("/api/v1/me").status_code == 401
    finally:
        web.journal.close()
        web.store.close()


def test_sessions_record_the_client_and_never_the_token(web: Web) -> None:
    session = web.login()
    [info] = web.store.sessions.list(ADMIN)
    assert info.client == "testclient"
    assert session.client.cookies[SESSION_COOKIE] not in str(info.to_json())


# -- banners ----------------------------------------------------------------------------------


def test_a_banner_cannot_be_written_in_the_url(web: Web) -> None:
    """`?done=` and `?saved=` used to be shown as green success banners: a link could make the
    router's own page say anything (phishing)."""
    session = web.login()
    lure = "Your password expired: enter it at evil.example"
    for path in ("/dead-letters", "/dead-letters/1", "/"):
        page = session.client.get(path, params={"done": lure, "saved": "1"})
        assert lure not in page.text and 'class="alert good"' not in page.text, path


def test_a_banner_is_the_servers_own_text_shown_once(web: Web) -> None:
    session = web.login()
    nothing = session.client.post("/dead-letters/replay", data={"csrf_token": session.csrf})
    assert nothing.headers["location"] == "/dead-letters"
    first = session.client.get("/dead-letters").text
    assert re.search(r'class="alert good" role="status">Nothing selected\.<', first)
    assert "Nothing selected." not in session.client.get("/dead-letters").text
    other = web.login()  # another session of the same user never sees it
    session.client.post("/dead-letters/replay", data={"csrf_token": session.csrf})
    assert "Nothing selected." not in other.client.get("/dead-letters").text


# -- security headers -------------------------------------------------------------------------


def test_every_answer_carries_the_security_headers(web: Web) -> None:
    session = web.login()
    answers = {
        "login page": web.client().get("/login"),
        "dashboard": session.client.get("/"),
        "redirect": web.client().get("/"),
        "API JSON": session.client.get("/api/v1/me"),
        "API error": web.client().get("/api/v1/me"),
        "static file": web.client().get("/static/app.js"),
        "health": web.client().get("/health"),
        "404": web.client().get("/no-such-page"),
    }
    for what, response in answers.items():
        headers = response.headers
        assert headers["content-security-policy"] == PAGE_POLICY, what
        assert headers["x-content-type-options"] == "nosniff", what
        assert headers["referrer-policy"] == "same-origin", what
        assert headers["x-frame-options"] == "DENY", what
    assert "frame-ancestors 'none'" in PAGE_POLICY and "'unsafe-inline'" not in PAGE_POLICY


def test_the_api_docs_page_has_its_own_policy_and_no_inline_script(web: Web) -> None:
    docs = web.client().get("/api/docs")
    assert docs.status_code == 200
    assert docs.headers["content-security-policy"] == DOCS_POLICY
    assert "frame-ancestors 'none'" in DOCS_POLICY
    assert "script-src 'self';" in DOCS_POLICY  # the router's own copy of Swagger UI only
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", docs.text) == []
    assert '<script src="/api/docs/start.js">' in docs.text
    assert web.client().get("/api/docs/start.js").status_code == 200
    assert web.client().get("/redoc").status_code == 404  # ReDoc's page would need more


@pytest.mark.parametrize("page", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_templates_hold_no_inline_script_or_handler(page: str) -> None:
    text = (TEMPLATES / page).read_text()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", text) == []
    assert re.findall(r"\son[a-z]+\s*=", text) == []
    assert "javascript:" not in text
