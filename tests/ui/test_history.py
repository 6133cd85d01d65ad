"""History in a real browser against a real router process: the running router writes its first
minute, the API has it, and the dashboard and the consumer's page draw it as SVG, with nothing
fetched from anywhere but the router."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.peers.receiver import Receiver
from tests.peers.router import Router
from tests.support.browser import PASSWORD, sign_in
from tests.support.traffic import play
from tests.support.wait import wait_until

pytestmark = pytest.mark.timeout(240)
expect.set_options(timeout=15_000)


def delivered_rows(router: Router) -> list[dict[str, Any]]:
    body = router.api("GET", "/api/v1/history?consumer=lrs").json()
    return [p for p in body["consumers"]["lrs"] if p["delivered"]]


def test_the_router_records_a_minute_and_the_pages_chart_it(
    tmp_path: Path, receiver: Receiver, browser: Browser
) -> None:
    router = Router(tmp_path / "home")
    with router.store() as store:
        store.users.add("operator", PASSWORD, "viewer")
    router.add_consumer(name="lrs", url=receiver.url + "/xapi/statements", linger=0.01)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    with router:
        assert router.post([play(i) for i in range(12)]).status_code == 202
        wait_until(
            lambda: router.status()["consumers"]["lrs"]["delivered"] == 12, message="delivered"
        )
        # The minute ends at most 60 s later; its row is written at the next engine poll.
        rows = wait_until(lambda: delivered_rows(router), 90, "a history row")
        assert sum(p["delivered"] for p in rows) == 12
        assert rows[0]["p99_ms"] is not None and rows[0]["samples"] == 12
        body = router.api("GET", "/api/v1/history").json()
        assert sum(p["ingested"] for p in body["router"]) == 12
        points = len(body["router"])

        sign_in(page, router, "operator")
        chart = page.locator('svg[data-chart="throughput"]')
        expect(chart).to_be_visible()
        line = chart.locator('path[data-series="ingested"]')
        expect(line).to_have_attribute("data-points", str(points))
        assert line.get_attribute("d").count("M") >= 1  # type: ignore[union-attr]
        expect(page.locator("#history svg.chart")).to_have_count(4)

        page.get_by_role("link", name="lrs", exact=True).click()
        lrs = page.locator('svg[data-chart="throughput"] path[data-series="delivered"]')
        expect(lrs).to_have_attribute("data-points", str(len(body["consumers"]["lrs"])))
        page.get_by_role("link", name="7d").click()
        expect(page.get_by_role("link", name="7d")).to_have_attribute("aria-current", "true")
        p99 = page.locator('svg[data-chart="latency"] path[data-series="p99_ms"]')
        expect(p99).to_have_attribute("data-points", "1")  # the minute, in a 15-minute bucket
        expect(page.locator('svg[data-chart="latency"]')).to_be_visible()
        assert page_width(page) <= 1280
    assert requested and all(url.startswith(router.url) for url in requested), requested
    context.close()


def page_width(page: Any) -> int:
    return int(page.evaluate("document.scrollingElement.scrollWidth"))
