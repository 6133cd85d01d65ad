"""Every admin page in a real browser (Debian's Chromium) against a real router process that has
something to show: a consumer delivering after transient failures, one disabled with a growing
backlog, one paused by a wrong password, and dead letters.

The pages must fit a 390 px phone (no sideways page scroll, "Sign out" on screen), keep their
skip link working, and tell the truth on the dashboard. Each page is photographed at 1280 and
390 px (viewport shots) into test-output/screenshots/pages, or into the directory named by
EVENT_ROUTER_SCREENSHOTS (`docs/screenshots` for the committed ones).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from event_router.backfill import progress
from tests.peers.receiver import Receiver
from tests.peers.router import Router
from tests.support.browser import PASSWORD, sign_in
from tests.support.traffic import play
from tests.support.wait import wait_until

pytestmark = pytest.mark.timeout(240)
WIDTHS = {1280: 800, 390: 844}  # viewport width: height (a laptop, a phone)
FOCUS = {"consumer-new": "#route-preview", "admin-config": "#import-plan"}
CHANGED = """- name: lrs
  protocol: xapi
  url: {url}/xapi/statements
  auth: basic
  username: user
  batch_size: 25
- name: archive
  protocol: xapi
  sink: archive
  url: exports
"""


@dataclass
class Scene:
    router: Router
    receiver: Receiver
    letter: int  # a dead letter's id
    event: str  # the journal position of the event it was made from


def consumers(router: Router) -> dict[str, Any]:
    return router.status()["consumers"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory, receiver_server: Receiver) -> Iterator[Scene]:
    receiver = receiver_server
    receiver.reset()
    receiver.up()
    receiver.require_basic("user", "pass")
    router = Router(tmp_path_factory.mktemp("screens") / "home")
    with router.store() as store:
        store.users.add("operator", PASSWORD, "admin")
        store.users.add("watcher", PASSWORD, "viewer")
    lrs = {
        "protocol": "xapi",
        "url": receiver.url + "/xapi/statements",
        "auth": "basic",
        "username": "user",
        "password": "pass",
        "linger": 0.01,
    }
    router.add_consumer(name="lrs", **lrs)
    router.add_consumer(name="analytics", **lrs)
    with router:
        # Transient failures first: retries, then deliveries that resolve the error.
        receiver.fail_next(2, 503)
        assert router.post([play(i) for i in range(20)]).status_code == 202
        wait_until(
            lambda: all(c["delivered"] == 20 for c in consumers(router).values()),
            message="deliveries",
        )
        # One statement the receiver rejects: a dead letter for each consumer.
        poisoned = play(500)
        tried = router.api("POST", "/api/v1/playground", json=poisoned).json()
        receiver.poison.add(tried["results"][0]["items"][0]["id"])
        assert router.post([poisoned, play(501)]).status_code == 202
        wait_until(
            lambda: consumers(router)["lrs"]["dead_letters_open"] == 1, message="a dead letter"
        )
        # Disabled: its backlog grows as events arrive.
        router.update_consumer("analytics", enabled=False)
        wait_until(
            lambda: consumers(router)["analytics"]["state"] == "disabled", message="disabled"
        )
        assert router.post([play(i) for i in range(600, 605)]).status_code == 202
        # A wrong password: the endpoint answers 401 and the consumer is paused.
        # (A new consumer starts at the journal's head: it needs an event after it started.)
        router.add_consumer(name="locked", **{**lrs, "password": "wrong"})
        wait_until(
            lambda: consumers(router)["locked"]["state"] == "running", message="locked running"
        )
        assert router.post([play(700)]).status_code == 202
        wait_until(lambda: consumers(router)["locked"]["state"] == "paused", message="paused")
        wait_until(lambda: consumers(router)["lrs"]["delivered"] == 27, message="lrs caught up")
        letters = router.api("GET", "/api/v1/dead-letters?consumer=lrs").json()["items"]
        # Something for the admin pages: a token, an audit trail, a backfill that was stopped.
        with router.store() as store:
            store.users.add("viewer", PASSWORD, "viewer")
            store.tokens.create("operator", "grafana", "viewer")
        router.api("PATCH", "/api/v1/consumers/analytics", json={"batch_size": 50})
        now = time.time()
        progress.write(
            router.home,
            {
                "state": "interrupted",
                "pid": 0,
                "started_at": now - 95,
                "updated_at": now - 5,
                "dry_run": False,
                "consumers": ["lrs"],
                "files": 4,
                "files_done": 2,
                "bytes_done": 62_000_000,
                "bytes_total": 100_000_000,
                "read": 412_345,
                "delivered": 398_002,
                "errors": 17,
                "retrying": False,
            },
        )
        # The running router writes history once a minute: charts with real figures.
        wait_until(lambda: recorded(router), 90, "a minute of history")
        yield Scene(router, receiver, letters[0]["id"], str(letters[0]["event_seq"]))
    receiver.reset()


def recorded(router: Router) -> bool:
    body = router.api("GET", "/api/v1/history?consumer=lrs").json()
    return any(point["delivered"] for point in body["consumers"]["lrs"])


def signed_in(
    browser: Browser, scene: Scene, width: int, user: str = "operator"
) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport={"width": width, "height": WIDTHS[width]})
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, scene.router, user)
    return context, page


def page_width(page: Page) -> int:
    return int(page.evaluate("document.scrollingElement.scrollWidth"))


def test_dashboard_shows_retries_resolved_errors_backlog_and_a_paused_consumer(
    scene: Scene, browser: Browser
) -> None:
    context, page = signed_in(browser, scene, 1280)
    expect(page.locator("#updated")).to_have_text(re.compile("^updated"))
    lrs = page.locator('tr[data-consumer="lrs"]')
    analytics = page.locator('tr[data-consumer="analytics"]')
    locked = page.locator('tr[data-consumer="locked"]')
    expect(lrs.locator('[data-field="state"]')).to_have_text("running")
    # Latency in units a person reads, never a bare number.
    expect(lrs.locator('[data-field="latency"]')).to_have_text(
        re.compile(r"^[\d.]+ (ms|s|min) · [\d.]+ (ms|s|min) · [\d.]+ (ms|s|min)$")
    )
    # The 503s were retried, and deliveries after them mark the error resolved.
    status = consumers(scene.router)
    retried = "lrs" if status["lrs"]["retries"] else "analytics"
    row = page.locator(f'tr[data-consumer="{retried}"]')
    expect(row.locator('[data-field="retries"]')).not_to_have_text("0")
    expect(lrs.locator('[data-field="last_error"] .badge')).to_have_text("resolved")
    # The disabled consumer's backlog is the 6 events that arrived since.
    expect(analytics.locator('[data-field="state"]')).to_have_text("disabled")
    expect(analytics.locator('[data-field="pending"]')).to_have_text("6")
    expect(locked.locator('[data-field="state"]')).to_have_text("paused")
    expect(page.locator("#legend")).to_contain_text("In flight counts items")
    # The paused consumer's own page says why, with its counters.
    locked.get_by_role("link", name="locked").click()
    panel = page.locator("#consumer-live")
    expect(panel.locator('[data-field="state"]')).to_have_text("paused")
    expect(panel.locator('[data-field="last_error"]')).to_contain_text("401")
    expect(panel.locator('[data-field="delivered"]')).to_have_text("0")
    expect(page.locator("#updated")).to_have_text(re.compile("^updated"))
    expect(panel.locator('[data-field="state"]')).to_have_text("paused")  # after a refresh too
    context.close()


def test_every_page_fits_390_px_with_sign_out_on_screen_and_is_photographed(
    scene: Scene, browser: Browser, page_shots: Path
) -> None:
    url = scene.router.url
    pages = {
        "dashboard": ("/", "Dashboard"),
        "consumer-new": ("/consumers/new", "Add consumer"),
        "consumer-paused": ("/consumers/locked/edit", "Consumer locked"),
        "dead-letters": ("/dead-letters", "Dead letters"),
        "dead-letter": (f"/dead-letters/{scene.letter}", f"Dead letter {scene.letter}"),
        "playground": ("/playground", "Translation playground"),
        "history": ("/?history=1h", "Dashboard"),
        "consumer-history": ("/consumers/lrs/edit?history=1h", "Consumer lrs"),
        "events": ("/events?learner=3", "Event inspector"),
        "event": (f"/events/{scene.event}", f"Event {scene.event}"),
        "not-found": ("/consumers/nope/edit", "Not found"),
        "admin-users": ("/admin/users", "Users and tokens"),
        "admin-audit": ("/admin/audit", "Audit log"),
        "admin-config": ("/admin/config", "Configuration"),
        "admin-backfill": ("/admin/backfill", "Backfill"),
    }
    for width, height in WIDTHS.items():
        anonymous = browser.new_context(viewport={"width": width, "height": height})
        login = anonymous.new_page()
        login.goto(url + "/login")
        expect(login.get_by_role("heading", name="Sign in")).to_be_visible()
        assert page_width(login) <= width, "login"
        login.screenshot(path=str(page_shots / f"login-{width}.png"))
        anonymous.close()

        context, page = signed_in(browser, scene, width)
        for name, (path, heading) in pages.items():
            page.goto(url + path)
            expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
            if name == "playground":
                page.get_by_role("button", name="Try it").click()
                expect(page.locator('article[data-consumer="lrs"]')).to_be_visible()
            if name == "admin-config":  # what an import would change, before it is applied
                page.get_by_label("YAML document").fill(CHANGED.format(url=scene.receiver.url))
                page.get_by_role("button", name="Show what would change").click()
                expect(page.locator("#import-plan")).to_contain_text("changed: lrs")
            if name == "consumer-new":  # the route preview and its hint
                page.get_by_label("Allow events").fill("edx\\.video\\..*")
                page.get_by_role("button", name="Preview on recent events").click()
                expect(page.locator("#route-preview-result .hint")).to_contain_text("play_video")
            if name in ("dashboard", "consumer-paused"):
                expect(page.locator("#updated")).to_have_text(re.compile("^updated"))
            if name == "event":
                expect(page.locator('article[data-consumer="lrs"]')).to_be_visible()
            assert page_width(page) <= width, f"{name} is {page_width(page)} px wide at {width}"
            page.evaluate("window.scrollTo(0, 0)")
            expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_in_viewport()
            if name.endswith("history"):  # the charts, further down the page
                expect(page.locator("#history svg.chart").first).to_be_visible()
                page.locator("#history").scroll_into_view_if_needed()
                expect(page.locator("#history h2")).to_be_in_viewport()
            if name in FOCUS:  # the part of the page the shot is about
                page.locator(FOCUS[name]).scroll_into_view_if_needed()
            page.screenshot(path=str(page_shots / f"{name}-{width}.png"))
        context.close()


def test_a_viewer_finds_a_learners_event_and_sees_what_each_consumer_got(
    scene: Scene, browser: Browser
) -> None:
    context, page = signed_in(browser, scene, 390, user="watcher")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.get_by_role("link", name="Events").click()
    form = page.locator("#event-search")
    form.get_by_label("Learner").fill("3")
    form.get_by_label("Event name").fill("play_video")
    form.get_by_role("button", name="Search").click()
    rows = page.locator("#events tbody tr")
    expect(rows).to_have_count(28)  # every event the scene sent was learner 3's play_video
    expect(page.locator("#older")).to_have_count(0)  # the whole journal was looked at
    positions = [int(p) for p in rows.evaluate_all("rs => rs.map(r => r.dataset.position)")]
    assert positions == sorted(positions, reverse=True)  # newest first
    page.locator(f'tr[data-position="{scene.event}"] a').click()
    expect(page.get_by_role("heading", level=1, name=f"Event {scene.event}")).to_be_visible()
    lrs = page.locator('article[data-consumer="lrs"]')
    expect(lrs.locator('[data-field="outcome"]')).to_have_text("dead letter")
    expect(lrs.get_by_role("link", name=re.compile(f"Dead letter {scene.letter}"))).to_be_visible()
    expect(lrs.locator('[data-field="statement-id"]')).to_have_count(1)
    locked = page.locator('article[data-consumer="locked"]')
    expect(locked.locator('[data-field="outcome"]')).to_have_text("not sent")
    expect(locked.locator('[data-field="reason"]')).to_contain_text("added after")
    assert page_width(page) <= 390
    assert all(url.startswith(scene.router.url) for url in requested), requested
    context.close()


def test_the_skip_link_comes_first_and_moves_focus_to_the_content(
    scene: Scene, browser: Browser
) -> None:
    context, page = signed_in(browser, scene, 390)
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).not_to_be_in_viewport()  # out of sight until a keyboard reaches it
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    expect(page).to_have_url(re.compile("#main$"))
    page.keyboard.press("Tab")  # the next stop is inside the content, past the header links
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")
    context.close()


def test_the_dashboard_says_unknown_when_the_status_cannot_be_fetched(
    tmp_path: Path, receiver: Receiver, browser: Browser
) -> None:
    router = Router(tmp_path / "home")
    with router.store() as store:
        store.users.add("operator", PASSWORD, "admin")
    router.add_consumer(name="lrs", url=receiver.url + "/xapi/statements", linger=0.01)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    with router:
        sign_in(page, router, "operator")
        state = page.locator('tr[data-consumer="lrs"] [data-field="state"]')
        expect(state).to_have_text("running")
        # The status request fails (a proxy answering 502, say): nothing may still say running.
        page.route("**/api/v1/status", lambda route: route.fulfill(status=502, body="bad gateway"))
        expect(state).to_have_text("unknown")
        expect(page.locator("#updated")).to_contain_text("cannot reach the router (HTTP 502)")
        expect(page.locator("#live")).to_have_class(re.compile(r"\bstale\b"))
        page.unroute("**/api/v1/status")
        expect(state).to_have_text("running")
        expect(page.locator("#live")).not_to_have_class(re.compile(r"\bstale\b"))
    # The router process is gone altogether.
    expect(state).to_have_text("unknown")
    expect(page.locator("#updated")).to_contain_text("cannot reach the router")
    expect(state).to_have_class(re.compile(r"\bstate-unknown\b"))
    context.close()
