"""The delivery log and "Retry now" on a consumer's page, in Chromium, against a real router
delivering to a real receiver that refuses the consumer's credentials until they are fixed.

Screenshots at 1280 and 390 px go where the page screenshots go (`consumer-log-*.png`).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.peers.receiver import Receiver
from tests.peers.router import Router
from tests.support.browser import PASSWORD, sign_in
from tests.support.traffic import play
from tests.support.wait import wait_until

pytestmark = pytest.mark.timeout(180)
WIDTHS = {1280: 800, 390: 844}


def open_page(browser: Browser, router: Router, user: str, width: int) -> Page:
    context = browser.new_context(viewport={"width": width, "height": WIDTHS[width]})
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, router, user)
    page.goto(router.url + "/consumers/lrs/edit")
    expect(page.get_by_role("heading", level=2, name="Delivery log")).to_be_visible()
    return page


def test_the_log_explains_a_paused_consumer_and_retry_now_delivers(
    tmp_path: Path, receiver: Receiver, browser: Browser, page_shots: Path
) -> None:
    router = Router(tmp_path / "home")
    with router.store() as store:
        store.users.add("operator", PASSWORD, "admin")
        store.users.add("watcher", PASSWORD, "viewer")
    receiver.require_basic("user", "not what the router has")
    router.add_consumer(
        name="lrs",
        url=receiver.url + "/xapi/statements",
        auth="basic",
        username="user",
        password="pass",
        linger=0.01,
    )
    with router:
        assert router.post([play(1)]).status_code == 202
        wait_until(
            lambda: router.status()["consumers"]["lrs"]["state"] == "paused",
            message="the consumer never paused",
        )

        # A viewer reads the log, and cannot retry.
        page = open_page(browser, router, "watcher", 1280)
        log = page.locator("#delivery-log")
        expect(log.locator("#attempts tbody tr").first).to_contain_text("pause (HTTP 401)")
        expect(log.get_by_role("button", name="Retry now")).to_have_count(0)
        page.context.close()

        # At a phone's width the page still fits, the log scrolling in its own box.
        page = open_page(browser, router, "operator", 390)
        width = int(page.evaluate("document.scrollingElement.scrollWidth"))
        assert width <= 390, f"the page is {width} px wide"
        page.locator("#delivery-log").scroll_into_view_if_needed()
        page.screenshot(path=str(page_shots / "consumer-log-390.png"), full_page=True)
        page.context.close()

        # An admin sees why, since when, when it tries again, and retries now.
        page = open_page(browser, router, "operator", 1280)
        log = page.locator("#delivery-log")
        first = log.locator("#attempts tbody tr").first
        expect(first).to_contain_text("pause (HTTP 401)")
        expect(first.locator("td").nth(4)).to_have_text("1")  # its first try
        clock = re.compile(r"^\d\d:\d\d:\d\d$")
        expect(log.locator('[data-field="failing_since"]')).to_have_text(clock)
        expect(log.locator('[data-field="next_retry_at"]')).to_have_text(clock)
        page.screenshot(path=str(page_shots / "consumer-log-1280.png"), full_page=True)
        receiver.require_basic("user", "pass")  # fixed on the endpoint's side
        asked = time.monotonic()
        log.get_by_role("button", name="Retry now").click()
        expect(page.get_by_role("status")).to_contain_text("Retrying lrs now.")
        receiver.wait_for(1, timeout=30)
        assert time.monotonic() - asked < 30  # not the minute a paused consumer waits

        def shows_the_delivery() -> bool:
            if "delivered (HTTP 200)" in page.locator("#attempts tbody tr").first.inner_text():
                return True
            page.reload()
            return False

        wait_until(shows_the_delivery, 30, "the log never showed the delivery")
        log = page.locator("#delivery-log")
        expect(log.locator('[data-field="failing_since"]')).to_have_text("not failing")
        expect(log.get_by_role("button", name="Retry now")).to_have_count(0)
        expect(log.locator("#attempts tbody tr")).to_have_count(2)
        page.context.close()
