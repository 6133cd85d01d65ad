"""The admin pages: users and tokens, the audit log, YAML import / export, rewind, backfill
progress. Admins only; every form needs the session's CSRF token."""

from __future__ import annotations

import re

import yaml

from event_router.backfill import progress
from event_router.delivery.rewind import RewindRequests
from tests.web.conftest import ADMIN, VIEWER, VIEWER_PASSWORD, Web, form_token

LRS = {
    "name": "lrs",
    "protocol": "xapi",
    "url": "http://127.0.0.1:9/xapi/statements?key=query-secret",
    "auth": "basic",
    "username": "key",
    "password": "hunter2-secret",
}
EVENT = b'{"name": "a", "time": "2024-01-01T00:00:00+00:00"}'


def test_viewers_get_no_admin_pages_and_no_link_to_them(web: Web) -> None:
    viewer = web.login(VIEWER, VIEWER_PASSWORD)
    assert 'href="/admin/users"' not in viewer.client.get("/").text
    for path in ("/admin/users", "/admin/audit", "/admin/config", "/admin/backfill"):
        assert viewer.client.get(path).status_code == 403, path
    answer = viewer.client.post("/admin/users", data={"csrf_token": viewer.csrf, "username": "x"})
    assert answer.status_code == 403
    admin = web.login()
    assert 'href="/admin/users"' in admin.client.get("/").text


def test_adding_a_user_shows_every_problem_at_once_each_at_its_field(web: Web) -> None:
    admin = web.login()
    page = admin.client.post(
        "/admin/users",
        data={"csrf_token": admin.csrf, "username": "", "password": "short", "password2": "x"},
    )
    assert page.status_code == 400
    for field in ("username", "password", "password2"):
        tag = re.search(rf'<input id="f-{field}"[^>]*>', page.text)
        assert tag and 'aria-invalid="true"' in tag.group(0), field
        assert f'id="e-{field}"' in page.text
    assert web.store.users.count() == 2  # nothing added
    done = admin.client.post(
        "/admin/users",
        data={
            "csrf_token": admin.csrf,
            "username": "nina",
            "role": "viewer",
            "password": "nina-password",
            "password2": "nina-password",
        },
    )
    assert done.status_code == 303 and web.store.users.get("nina").role.value == "viewer"
    no_csrf = admin.client.post("/admin/users/nina/remove", data={})
    assert no_csrf.status_code == 403 and web.store.users.get("nina")


def test_a_new_token_is_shown_once_and_works_until_revoked(web: Web) -> None:
    admin = web.login()
    page = admin.client.post(
        "/admin/tokens",
        data={
            "csrf_token": admin.csrf,
            "token_user": VIEWER,
            "token_name": "grafana",
            "token_role": "",
        },
    )
    assert page.status_code == 201
    token = re.search(r"<code id=\"token-secret\">(ert_[^<]+)</code>", page.text)
    assert token is not None
    secret = token.group(1)
    bearer = web.client()
    bearer.headers["Authorization"] = f"Bearer {secret}"
    assert bearer.get("/api/v1/me").json()["username"] == VIEWER
    again = admin.client.get("/admin/users").text
    assert secret not in again and "grafana" in again
    (record,) = [t for t in web.store.tokens.list() if t.name == "grafana"]
    revoked = admin.client.post(
        f"/admin/tokens/{record.id}/revoke", data={"csrf_token": admin.csrf}
    )
    assert revoked.status_code == 303
    assert bearer.get("/api/v1/me").status_code == 401
    audit = admin.client.get("/admin/audit").text
    assert "token.create" in audit and "token.revoke" in audit and secret not in audit
    # An id no row can have is a 404 page, not a database overflow (500).
    for token_id in ("99999999999999999999", "0"):
        missing = admin.client.post(
            f"/admin/tokens/{token_id}/revoke", data={"csrf_token": admin.csrf}
        )
        assert missing.status_code == 404


def test_roles_change_and_an_admin_cannot_demote_or_remove_themselves(web: Web) -> None:
    admin = web.login()
    own = admin.client.post(f"/admin/users/{ADMIN}/role", data={"csrf_token": admin.csrf,
                                                               "role": "viewer"})  # fmt: skip
    assert own.status_code == 400 and web.store.users.get(ADMIN).role.value == "admin"
    made = admin.client.post(
        f"/admin/users/{VIEWER}/role", data={"csrf_token": admin.csrf, "role": "admin"}
    )
    assert made.status_code == 303 and web.store.users.get(VIEWER).role.value == "admin"
    gone = admin.client.post(f"/admin/users/{VIEWER}/remove", data={"csrf_token": admin.csrf})
    assert gone.status_code == 303 and [u.username for u in web.store.users.list()] == [ADMIN]
    entries = web.store.audit.list()[0]
    assert [(e.actor, e.via, e.action) for e in entries[:2]] == [
        (ADMIN, "ui", "user.remove"),
        (ADMIN, "ui", "user.role"),
    ]


def test_export_then_import_shows_what_would_change_before_doing_it(web: Web) -> None:
    assert web.admin().post("/api/v1/consumers", json=LRS).status_code == 201
    admin = web.login()
    exported = admin.client.get("/admin/config/export")
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    assert "hunter2-secret" not in exported.text and "query-secret" not in exported.text
    document = yaml.safe_load(exported.text)
    document[0]["batch_size"] = 7
    document.append(
        {
            "name": "hook",
            "protocol": "edx",
            "url": "http://127.0.0.1:9/hook",
            "signing_secret": "sig-secret-1",
        }
    )
    text = yaml.safe_dump(document)
    preview = admin.client.post(
        "/admin/config/import", data={"csrf_token": admin.csrf, "document": text}
    )
    assert preview.status_code == 200, preview.text[-3000:]
    assert "added: hook" in preview.text and "(batch_size)" in preview.text
    assert [c.name for c in web.store.consumers.list()] == ["lrs"]  # nothing written yet
    done = admin.client.post(
        "/admin/config/import",
        data={"csrf_token": admin.csrf, "document": text, "confirm": "yes"},
    )
    assert done.status_code == 303
    lrs = web.store.consumers.get("lrs")
    assert lrs.batch_size == 7 and lrs.password == "hunter2-secret"  # the secret stayed
    assert str(lrs.url).endswith("key=query-secret")
    assert [c.name for c in web.store.consumers.list()] == ["hook", "lrs"]
    bad = admin.client.post(
        "/admin/config/import",
        data={"csrf_token": admin.csrf, "document": "- name: x\n  protocol: nope\n  url: y"},
    )
    assert bad.status_code == 400 and "Nothing was imported" in bad.text
    assert 'aria-invalid="true"' in bad.text
    (entry,) = web.store.audit.list(action="config.import")[0]
    assert entry.detail == {"added": ["hook"], "updated": ["lrs"]}


def test_rewind_from_the_consumer_page(web: Web) -> None:
    assert web.admin().post("/api/v1/consumers", json=LRS).status_code == 201
    web.journal.submit([EVENT] * 6, None, {"lrs": 6}).result()
    admin = web.login()
    page = admin.client.get("/consumers/lrs/edit")
    assert 'action="/consumers/lrs/rewind"' in page.text
    wrong = admin.client.post(
        "/consumers/lrs/rewind", data={"csrf_token": form_token(page.text), "since": "soon"}
    )
    assert wrong.status_code == 400 and 'id="e-since"' in wrong.text
    assert RewindRequests(web.journal).pending() == {}
    done = admin.client.post(
        "/consumers/lrs/rewind", data={"csrf_token": admin.csrf, "since": "1h"}
    )
    assert done.status_code == 303
    assert RewindRequests(web.journal).pending() == {"lrs": 0}
    assert "6 events accepted since" in admin.client.get("/consumers/lrs/edit").text
    (entry,) = web.store.audit.list(action="consumer.rewind")[0]
    assert entry.actor == ADMIN and entry.detail["events"] == 6


def test_rewind_through_the_api(web: Web) -> None:
    web.admin().post("/api/v1/consumers", json=LRS)
    web.journal.submit([EVENT] * 3, None, {"lrs": 3}).result()
    answer = web.admin().post("/api/v1/consumers/lrs/rewind", json={"since": "2h"})
    assert answer.status_code == 200 and answer.json()["events"] == 3
    assert RewindRequests(web.journal).pending() == {"lrs": 0}
    assert web.admin().post("/api/v1/consumers/lrs/rewind", json={"since": "x"}).status_code == 400
    assert web.admin().post("/api/v1/consumers/no/rewind", json={"since": "1h"}).status_code == 404
    assert (
        web.viewer().post("/api/v1/consumers/lrs/rewind", json={"since": "1h"}).status_code == 403
    )


def test_backfill_progress_page(web: Web) -> None:
    admin = web.login()
    assert "No backfill yet" in admin.client.get("/admin/backfill").text
    import os
    import time

    record = {
        "state": "running", "pid": os.getpid(), "started_at": time.time() - 5,
        "updated_at": time.time(), "dry_run": False, "consumers": ["lrs"], "files": 2,
        "files_done": 1, "bytes_done": 500, "bytes_total": 1000, "read": 1234,
        "delivered": 1200, "errors": 3, "retrying": False,
    }  # fmt: skip
    progress.write(web.home, record)
    page = admin.client.get("/admin/backfill").text
    assert "running" in page and "1,234" in page and "50.0 %" in page and "data-refresh" in page
    progress.write(web.home, {**record, "state": "done", "bytes_done": 1000})
    page = admin.client.get("/admin/backfill").text
    assert ">done<" in page and "data-refresh" not in page
