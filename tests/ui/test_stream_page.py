"""A stream consumer's page in Chromium: its subscribers, live, from a real router with a real
SSE subscriber connected. Screenshots at 1280 and 390 px (`consumer-stream-*.png`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.peers.router import Router
from tests.support.browser import PASSWORD, sign_in
from tests.support.stream import stream_token, subscribe
from tests.support.wait import wait_until

pytestmark = pytest.mark.timeout(180)
WIDTHS = {1280: 800, 390: 844}


def test_the_page_lists_the_subscribers(tmp_path: Path, browser: Browser, page_shots: Path) -> None:
    router = Router(tmp_path / "home")
    with router.store() as store:
        store.users.add("operator", PASSWORD, "admin")
    router.add_consumer(name="adaptive", protocol="xapi", sink="stream")
    with router:
        token = stream_token(router, "adaptive")
        wait_until(lambda: "stream" in router.status()["consumers"]["adaptive"], message="the hub")
        with subscribe(router, token) as response:
            assert response.status_code == 200
            wait_until(
                lambda: router.status()["consumers"]["adaptive"]["stream"]["subscribers"] == 1,
                message="the subscriber",
            )
            for width, height in WIDTHS.items():
                context = browser.new_context(viewport={"width": width, "height": height})
                page = context.new_page()
                page.set_default_timeout(15_000)
                sign_in(page, router, "operator")
                page.goto(router.url + "/consumers/adaptive/edit")
                live = page.locator("#consumer-live")
                expect(live.locator('[data-field="subscribers"]')).to_have_text("1")
                expect(live.locator('[data-field="subscriber_lag"]')).to_have_text("0")
                expect(page.locator("#subscribers tbody tr")).to_contain_text(
                    "adaptive-engine (router-peer)"
                )
                expect(page.get_by_role("heading", name="Delivery log")).to_have_count(0)
                scroll = int(page.evaluate("document.scrollingElement.scrollWidth"))
                assert scroll <= width, f"the page is {scroll} px wide at {width}"
                page.screenshot(path=str(page_shots / f"consumer-stream-{width}.png"))
                context.close()
