"""Every failure answers in the documented shape and never shows a traceback.

Before the fix, an id or offset beyond what SQLite/PostgreSQL can hold reached the database and
came back as a plain-text 500; an unexpected error did too.
"""

from __future__ import annotations

import sqlite3

import pytest
from starlette.testclient import TestClient

from tests.web.conftest import Web

HUGE = "9223372036854775808"  # 2**63: one more than any row id


def quiet(client: TestClient) -> TestClient:
    """The same caller (headers, cookies), shown the server's answer to an exception instead of
    having it re-raised in the test."""
    app = client.app
    copy = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    copy.headers.update(client.headers)
    copy.cookies.update(client.cookies)
    return copy


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"/api/v1/dead-letters/{HUGE}", None),
        ("GET", f"/api/v1/dead-letters?offset={HUGE}", None),
        ("POST", f"/api/v1/dead-letters/{HUGE}/replay", None),
        ("POST", f"/api/v1/dead-letters/{HUGE}/discard", None),
        ("POST", "/api/v1/dead-letters/replay", {"ids": [int(HUGE)]}),
        ("POST", "/api/v1/dead-letters/discard", {"ids": [int(HUGE)]}),
        ("GET", "/api/v1/dead-letters/-1", None),
    ],
)
def test_huge_integers_are_a_400_not_a_500(web: Web, method: str, path: str, body: object) -> None:
    response = quiet(web.admin()).request(method, path, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid request"
    assert "Traceback" not in response.text


def test_huge_integers_in_pages_answer_an_html_page(web: Web) -> None:
    session = web.login()
    client = quiet(session.client)
    letter = client.get(f"/dead-letters/{HUGE}")
    assert letter.status_code == 404 and "text/html" in letter.headers["content-type"]
    assert "Not found" in letter.text
    page = client.get(f"/dead-letters?offset={HUGE}")
    assert page.status_code == 400 and "text/html" in page.headers["content-type"]
    acted = client.post(
        "/dead-letters/replay", data={"csrf_token": session.csrf, "id": [HUGE, "²"]}
    )
    assert acted.status_code == 303  # impossible ids are ignored: nothing selected
    assert acted.headers["location"] == "/dead-letters"
    assert "Nothing" in client.get("/dead-letters").text  # the flash message says so


def test_unknown_api_paths_and_methods_use_the_error_shape(web: Web) -> None:
    missing = web.admin().get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json() == {"error": "Not Found"}
    wrong = web.admin().put("/api/v1/dead-letters")
    assert wrong.status_code == 405 and "error" in wrong.json()
    assert wrong.headers["allow"]


def test_an_unexpected_failure_is_a_json_500_without_internals(web: Web) -> None:
    with sqlite3.connect(web.home / "control.db") as db:
        db.execute("DROP TABLE dead_letters")  # the database loses a table under the router
    response = quiet(web.admin()).get("/api/v1/dead-letters")
    assert response.status_code == 500
    assert response.json() == {"error": "internal error: the router logged the details"}
    page = quiet(web.login().client).get("/dead-letters")
    assert page.status_code == 500 and "text/html" in page.headers["content-type"]
    assert "Server error" in page.text
    for text in (response.text, page.text):
        assert "Traceback" not in text and "OperationalError" not in text
        assert "no such table" not in text
