"""The `erb-default` event set through the REST API and the admin UI form."""

from __future__ import annotations

import httpx

from event_router.routing.presets import ERB_DEFAULT_CALIPER, ERB_DEFAULT_XAPI
from tests.support.web import FULL_FORM, messages
from tests.web.conftest import Session, Web


def post(session: Session, path: str, data: dict[str, str]) -> httpx.Response:
    return session.client.post(path, data={"csrf_token": session.csrf, **data})


def test_api_create_and_patch_with_events(web: Web) -> None:
    body = {"name": "lrs", "url": "http://127.0.0.1:9/xapi", "events": "erb-default"}
    created = web.admin().post("/api/v1/consumers", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["route"]["allow"] == list(ERB_DEFAULT_XAPI)
    assert "events" not in created.json()

    patched = web.admin().patch(
        "/api/v1/consumers/lrs",
        json={"protocol": "caliper", "sink": "caliper", "events": "erb-default"},
    )
    assert patched.status_code == 200, patched.text
    assert web.store.consumers.get("lrs").route.allow == list(ERB_DEFAULT_CALIPER)

    refused = web.admin().patch("/api/v1/consumers/lrs", json={"events": "everything"})
    assert refused.status_code == 400
    assert "events: unknown event set 'everything'" in refused.text
    assert web.store.consumers.get("lrs").route.allow == list(ERB_DEFAULT_CALIPER)


def test_ui_form_event_set_replaces_the_allow_list(web: Web) -> None:
    session = web.login()
    form = {**FULL_FORM, "name": "lrs", "events": "erb-default"}
    assert post(session, "/consumers/new", form).status_code == 303
    assert web.store.consumers.get("lrs").route.allow == list(ERB_DEFAULT_XAPI)

    page = session.client.get("/consumers/lrs/edit").text
    assert 'name="events"' in page and "erb-default" in page
    edited = post(session, "/consumers/lrs/edit", {**form, "events": "all"})
    assert edited.status_code == 303
    assert web.store.consumers.get("lrs").route.allow == []

    # without a choice the typed list is what is stored
    kept = post(session, "/consumers/lrs/edit", {**form, "events": "", "allow": "a.b"})
    assert kept.status_code == 303
    assert web.store.consumers.get("lrs").route.allow == ["a.b"]

    bad = post(session, "/consumers/lrs/edit", {**form, "events": "nope"})
    assert bad.status_code == 400
    assert messages(bad.text) == ["unknown event set 'nope' (expected one of all, erb-default)"]
