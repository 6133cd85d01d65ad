"""`/api/v1/users` and `/api/v1/tokens`: admins manage users and tokens over the API too."""

from __future__ import annotations

from tests.web.conftest import ADMIN, VIEWER, Web


def test_users_are_added_given_a_role_and_removed(web: Web) -> None:
    admin = web.admin()
    added = admin.post("/api/v1/users", json={"username": "nina", "password": "nina-password"})
    assert added.status_code == 201 and added.json()["role"] == "viewer"
    assert (
        admin.post(
            "/api/v1/users", json={"username": "NINA", "password": "nina-password"}
        ).status_code
        == 409
    )
    short = admin.post("/api/v1/users", json={"username": "x", "password": "short"})
    assert short.status_code == 400
    assert admin.patch("/api/v1/users/nina", json={"role": "admin"}).json()["role"] == "admin"
    assert admin.patch(f"/api/v1/users/{ADMIN}", json={"role": "viewer"}).status_code == 400
    assert admin.delete(f"/api/v1/users/{ADMIN}").status_code == 400
    assert admin.delete("/api/v1/users/nina").status_code == 204
    assert admin.delete("/api/v1/users/nina").status_code == 404
    names = [u["username"] for u in admin.get("/api/v1/users").json()["users"]]
    assert names == [ADMIN, VIEWER]
    actions = [i["action"] for i in admin.get("/api/v1/audit").json()["items"]]
    assert actions[:3] == ["user.remove", "user.role", "user.add"]
    assert "nina-password" not in str(admin.get("/api/v1/audit").json())


def test_a_token_is_shown_once_and_revoked(web: Web) -> None:
    admin = web.admin()
    created = admin.post("/api/v1/tokens", json={"user": VIEWER, "name": "ci"})
    assert created.status_code == 201
    body = created.json()
    secret = body["token"]
    listed = admin.get("/api/v1/tokens").json()["tokens"]
    assert secret not in str(listed) and body["id"] in [t["id"] for t in listed]
    client = web.client()
    client.headers["Authorization"] = f"Bearer {secret}"
    assert client.get("/api/v1/me").json()["username"] == VIEWER
    too_much = admin.post("/api/v1/tokens", json={"user": VIEWER, "name": "x", "role": "admin"})
    assert too_much.status_code == 400
    assert admin.delete(f"/api/v1/tokens/{body['id']}").status_code == 204
    assert client.get("/api/v1/me").status_code == 401
    assert secret not in str(admin.get("/api/v1/audit").json())


def test_viewers_cannot_manage_users_or_tokens(web: Web) -> None:
    viewer = web.viewer()
    assert viewer.get("/api/v1/users").status_code == 403
    assert viewer.get("/api/v1/tokens").status_code == 403
    assert viewer.post("/api/v1/tokens", json={"user": VIEWER, "name": "x"}).status_code == 403
