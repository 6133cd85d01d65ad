"""`GET /api/v1/audit`: changes through the API and the UI are logged with who made them."""

from __future__ import annotations

from tests.web.conftest import ADMIN, VIEWER, Web, form_token

WEBHOOK = {"name": "hook", "protocol": "xapi", "url": "http://127.0.0.1:9/x", "token": "tok-9"}


def test_api_and_ui_changes_are_logged_with_their_actor(web: Web) -> None:
    admin = web.admin()
    assert admin.post("/api/v1/consumers", json={**WEBHOOK, "auth": "bearer"}).status_code == 201
    assert admin.post("/api/v1/consumers/hook/disable").status_code == 200
    session = web.login()
    page = session.client.get("/consumers/hook/edit")
    answer = session.client.post(
        "/consumers/hook/enable", data={"csrf_token": form_token(page.text)}
    )
    assert answer.status_code == 303
    items = admin.get("/api/v1/audit").json()["items"]
    seen = [(i["actor"], i["via"], i["action"], i["target"]) for i in items]
    assert seen[:3] == [
        (ADMIN, "ui", "consumer.enable", "hook"),
        (ADMIN, "api", "consumer.disable", "hook"),
        (ADMIN, "api", "consumer.add", "hook"),
    ]
    assert "tok-9" not in str(items)


def test_filters_and_paging(web: Web) -> None:
    admin = web.admin()
    admin.post("/api/v1/consumers", json={**WEBHOOK, "auth": "bearer"})
    admin.delete("/api/v1/consumers/hook")
    body = admin.get("/api/v1/audit", params={"action": "consumer.rem", "limit": 1}).json()
    assert body["total"] == 1 and body["items"][0]["action"] == "consumer.remove"
    assert admin.get("/api/v1/audit", params={"limit": 0}).status_code == 400


def test_viewers_and_strangers_cannot_read_it(web: Web) -> None:
    assert web.viewer().get("/api/v1/audit").status_code == 403
    assert web.client().get("/api/v1/audit").status_code == 401
    assert VIEWER  # (the viewer token belongs to this user)


def test_forgetting_a_learner_is_logged_without_who_the_learner_was(web: Web) -> None:
    answer = web.admin().post(
        "/api/v1/learners/forget", json={"user_id": 4242, "username": "learner-ann"}
    )
    assert answer.status_code == 200
    (entry,) = web.admin().get("/api/v1/audit", params={"action": "learner"}).json()["items"]
    assert entry["actor"] == ADMIN and entry["via"] == "api" and entry["target"] == "a learner"
    assert "4242" not in str(entry) and "learner-ann" not in str(entry)


def test_dead_letter_replays_from_the_ui_are_logged(web: Web) -> None:
    admin = web.admin()
    admin.post("/api/v1/consumers", json={**WEBHOOK, "auth": "bearer"})
    letter = web.store.dead_letters.add("hook", 1, "play_video", {"name": "play_video"}, "400")
    session = web.login()
    answer = session.client.post(
        "/dead-letters/replay", data={"csrf_token": session.csrf, "id": str(letter)}
    )
    assert answer.status_code == 303
    (entry,) = admin.get("/api/v1/audit", params={"action": "dead_letters"}).json()["items"]
    assert (entry["actor"], entry["via"], entry["target"]) == (ADMIN, "ui", "dead letters")
    assert entry["detail"] == {"ids": [letter], "count": 1}
