"""The API docs page works on a private network: Chromium, every request to anywhere but the
router refused, renders the operations of the router's OpenAPI document."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Route, expect

from tests.peers.router import Router

pytestmark = pytest.mark.timeout(120)


def test_api_docs_render_with_no_network_but_the_router(tmp_path: Path, browser: Browser) -> None:
    router = Router(tmp_path / "home")
    outside: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900})

    def only_the_router(route: Route) -> None:
        if route.request.url.startswith(router.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_router)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    with router:
        page.goto(router.url + "/api/docs")
        expect(page.locator(".opblock").first).to_be_visible(timeout=20_000)
        expect(page.locator(".opblock-summary-path", has_text="/api/v1/events")).to_be_visible()
        assert page.locator(".opblock").count() >= 10
    context.close()
    assert outside == [], f"the page reached outside the router: {outside}"
    assert errors == []
