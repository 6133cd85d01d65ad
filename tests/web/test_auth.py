"""Who may do what: 401 without credentials, 403 for viewers changing things, CSRF on sessions,
sign-in and sign-out, cookie flags, and sessions that end when they should."""

from __future__ import annotations

from typing import Any

import pytest

from event_router.store.tokens import token_digest
from event_router.web.auth import SESSION_COOKIE
from tests.web.conftest import (
    ADMIN,
    ADMIN_PASSWORD,
    VIEWER,
    VIEWER_PASSWORD,
    Web,
    form_token,
)

CONSUMER = {"name": "lrs", "protocol": "xapi", "url": "http://127.0.0.1:9/xapi/statements"}

# (method, path, JSON body, needs admin): every endpoint of the admin API.
ENDPOINTS: list[tuple[str, str, Any, bool]] = [
    ("GET", "/api/v1/status", None, False),
    ("GET", "/api/v1/history", None, False),
    ("GET", "/api/v1/journal/events", None, False),
    ("GET", "/api/v1/journal/events/1", None, False),
    ("GET", "/api/v1/me", None, False),
    ("GET", "/api/v1/consumers", None, False),
    ("POST", "/api/v1/consumers", {**CONSUMER, "name": "other"}, True),
    ("GET", "/api/v1/consumers/lrs", None, False),
    ("PATCH", "/api/v1/consumers/lrs", {"batch_size": 5}, True),
    ("POST", "/api/v1/consumers/lrs/disable", None, True),
    ("POST", "/api/v1/consumers/lrs/enable", None, True),
    ("POST", "/api/v1/consumers/lrs/test", None, True),
    ("GET", "/api/v1/dead-letters", None, False),
    ("GET", "/api/v1/dead-letters/1", None, False),
    ("POST", "/api/v1/dead-letters/replay", {"ids": [1]}, True),
    ("POST", "/api/v1/dead-letters/discard", {"ids": [1]}, True),
    ("POST", "/api/v1/dead-letters/1/replay", None, True),
    ("POST", "/api/v1/dead-letters/1/discard", None, True),
    ("POST", "/api/v1/playground", {"name": "x", "timestamp": "2024-01-01T00:00:00Z"}, False),
    ("DELETE", "/api/v1/consumers/lrs", None, True),
]
IDS = [f"{method} {path}" for method, path, _, _ in ENDPOINTS]


def seed(web: Web) -> None:
    """A consumer and one dead letter, so every endpoint has something to act on."""
    from event_router.routing.consumer import Consumer

    web.store.consumers.add(Consumer(**CONSUMER))
    web.store.dead_letters.add("lrs", 1, "play_video", {"name": "play_video"}, "rejected")
    event = b'{"name": "play_video", "timestamp": "2024-01-01T00:00:00Z"}'
    web.journal.submit([event]).result(timeout=10)  # seq 1, for the event inspector


@pytest.mark.parametrize(("method", "path", "body", "admin"), ENDPOINTS, ids=IDS)
def test_unauthenticated_requests_get_401(
    web: Web, method: str, path: str, body: Any, admin: bool
) -> None:
    seed(web)
    response = web.client().request(method, path, json=body)
    assert response.status_code == 401
    assert "authentication required" in response.json()["error"]
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "body", "admin"), ENDPOINTS, ids=IDS)
def test_viewers_read_but_get_403_for_changes(
    web: Web, method: str, path: str, body: Any, admin: bool
) -> None:
    seed(web)
    response = web.viewer().request(method, path, json=body)
    if admin:
        assert response.status_code == 403
        assert response.json()["error"] == f"{VIEWER} is a viewer: only admins change things"
    else:
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(("method", "path", "body", "admin"), ENDPOINTS, ids=IDS)
def test_admins_may_do_everything(web: Web, method: str, path: str, body: Any, admin: bool) -> None:
    seed(web)
    response = web.admin().request(method, path, json=body)
    assert response.status_code in (200, 201, 204), response.text


@pytest.mark.parametrize(
    "header",
    ["Bearer ert_not-a-real-token", "Bearer ", "Basic YWxpY2U6YWxpY2UtcGFzc3dvcmQ=", "Bearer x"],
)
def test_bad_credentials_get_401(web: Web, header: str) -> None:
    response = web.client().get("/api/v1/consumers", headers={"Authorization": header})
    assert response.status_code == 401


def test_a_revoked_token_stops_working_at_once(web: Web) -> None:
    record, token = web.store.tokens.create(ADMIN, "ci")
    auth = {"Authorization": f"Bearer {token}"}
    assert web.client().get("/api/v1/me", headers=auth).json()["username"] == ADMIN
    web.store.tokens.revoke(record.id)
    assert web.client().get("/api/v1/me", headers=auth).status_code == 401


def test_a_viewer_token_of_an_admin_cannot_change_things(web: Web) -> None:
    _, token = web.store.tokens.create(ADMIN, "dashboards", "viewer")
    client = web.client()
    client.headers["Authorization"] = f"Bearer {token}"
    me = client.get("/api/v1/me").json()
    assert me == {**me, "username": ADMIN, "role": "admin", "acting_role": "viewer", "via": "token"}
    assert client.post("/api/v1/consumers", json=CONSUMER).status_code == 403


def test_a_removed_users_token_and_session_end(web: Web) -> None:
    web.store.users.add("carol", "carol-password", "admin")
    _, token = web.store.tokens.create("carol", "ci")
    session = web.login("carol", "carol-password")
    web.store.users.remove("carol")
    assert (
        web.client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )
    assert session.client.get("/api/v1/me").status_code == 401
    assert session.client.get("/").headers["location"] == "/login?next=/"


# -- sessions ---------------------------------------------------------------------------------


def test_session_cookie_is_httponly_samesite_and_signed(web: Web) -> None:
    client = web.client()
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": ADMIN, "password": ADMIN_PASSWORD, "csrf_token": form_token(page.text)},
    )
    cookie = next(
        v for v in response.headers.get_list("set-cookie") if v.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http here; https requests get Secure cookies
    assert ADMIN_PASSWORD not in cookie
    assert client.get("/api/v1/me").json()["via"] == "session"


def test_https_requests_get_secure_cookies(web: Web) -> None:
    client = web.client()
    client.base_url = client.base_url.copy_with(scheme="https")
    page = client.get("https://testserver/login")
    cookie = page.headers["set-cookie"]
    assert "Secure" in cookie


def test_api_changes_with_a_session_need_the_csrf_header(web: Web) -> None:
    session = web.login()
    client = session.client
    assert client.post("/api/v1/consumers", json=CONSUMER).status_code == 403
    wrong = client.post("/api/v1/consumers", json=CONSUMER, headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    assert "X-CSRF-Token" in wrong.json()["error"]
    right = client.post("/api/v1/consumers", json=CONSUMER, headers={"X-CSRF-Token": session.csrf})
    assert right.status_code == 201
    assert client.get("/api/v1/consumers").status_code == 200  # reading needs no token


def test_ui_form_posts_need_the_csrf_field(web: Web) -> None:
    session = web.login()
    form = {"name": "x", "url": "http://a.test/x", "protocol": "xapi", "csrf_token": "forged"}
    response = session.client.post("/consumers/new", data=form)
    assert response.status_code == 403
    assert "expired or did not come from this site" in response.text
    assert web.store.consumers.list() == []


def test_made_up_or_altered_cookies_are_not_sessions(web: Web) -> None:
    session = web.login()
    cookie = session.client.cookies[SESSION_COOKIE]
    for forged in (cookie[::-1], cookie[:-1], cookie + "A", "junk", token_digest(cookie)):
        client = web.client()
        client.cookies.set(SESSION_COOKIE, forged)
        assert client.get("/api/v1/me").status_code == 401


def test_a_password_change_ends_existing_sessions(web: Web) -> None:
    session = web.login()
    assert session.client.get("/api/v1/me").status_code == 200
    web.store.users.set_password(ADMIN, "a-new-password")
    assert session.client.get("/api/v1/me").status_code == 401
    web.login(ADMIN, "a-new-password")


def test_demoting_a_user_takes_effect_on_their_open_session(web: Web) -> None:
    session = web.login()
    web.store.users.set_role(ADMIN, "viewer")
    denied = session.client.post(
        "/api/v1/consumers", json=CONSUMER, headers={"X-CSRF-Token": session.csrf}
    )
    assert denied.status_code == 401  # the session ended with the role change
    assert web.store.consumers.list() == []


# -- signing in and out -----------------------------------------------------------------------


def _login(web: Web, username: str, password: str, **extra: str) -> Any:
    client = web.client()
    token = form_token(client.get("/login").text)
    data = {"username": username, "password": password, "csrf_token": token, **extra}
    return client, client.post("/login", data=data)


def test_wrong_password_or_unknown_user_is_refused_the_same_way(web: Web) -> None:
    for username, password in ((ADMIN, "wrong-password"), ("nobody", ADMIN_PASSWORD)):
        client, response = _login(web, username, password)
        assert response.status_code == 401
        assert "Wrong user name or password." in response.text
        assert SESSION_COOKIE not in client.cookies


def test_login_without_the_form_token_is_refused(web: Web) -> None:
    client = web.client()
    data = {"username": ADMIN, "password": ADMIN_PASSWORD, "csrf_token": "made-up"}
    response = client.post("/login", data=data)
    assert response.status_code == 400
    assert SESSION_COOKIE not in client.cookies


def test_repeated_failures_are_throttled_even_with_the_right_password(web: Web) -> None:
    for _ in range(5):
        assert _login(web, VIEWER, "guess")[1].status_code == 401
    _, response = _login(web, VIEWER, VIEWER_PASSWORD)
    assert response.status_code == 429
    assert "Too many failed attempts" in response.text
    assert _login(web, ADMIN, ADMIN_PASSWORD)[1].status_code == 303  # other names unaffected


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/dead-letters?state=dead", "/dead-letters?state=dead"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("", "/"),
    ],
)
def test_login_redirects_only_within_the_site(web: Web, next_url: str, expected: str) -> None:
    _, response = _login(web, ADMIN, ADMIN_PASSWORD, next=next_url)
    assert response.status_code == 303
    assert response.headers["location"] == expected


def test_pages_redirect_to_login_and_back(web: Web) -> None:
    client = web.client()
    for path in ("/", "/playground", "/dead-letters?consumer=lrs", "/consumers/new"):
        response = client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=/")
    assert client.get("/dead-letters?consumer=lrs").headers["location"] == (
        "/login?next=/dead-letters%3Fconsumer%3Dlrs"
    )


def test_logout_ends_the_session(web: Web) -> None:
    session = web.login()
    response = session.client.post("/logout", data={"csrf_token": session.csrf})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert session.client.get("/api/v1/me").status_code == 401


def test_login_page_says_how_to_create_the_first_user(web: Web) -> None:
    assert "users add admin --role admin" not in web.client().get("/login").text
    web.store.users.remove(ADMIN)
    web.store.users.remove(VIEWER)
    assert "users add admin --role admin" in web.client().get("/login").text


def test_viewers_get_a_403_page_for_changes_in_the_ui(web: Web) -> None:
    seed(web)
    session = web.login(VIEWER, VIEWER_PASSWORD)
    assert session.client.get("/consumers/new").status_code == 403
    for path in ("/consumers/lrs/disable", "/consumers/lrs/delete", "/dead-letters/replay"):
        response = session.client.post(path, data={"csrf_token": session.csrf, "id": "1"})
        assert response.status_code == 403, path
        assert "only admins change things" in response.text
    assert web.store.consumers.get("lrs").enabled
    page = session.client.get("/consumers/lrs/edit")
    assert page.status_code == 200
    assert "<fieldset disabled>" in page.text and "Save changes" not in page.text
