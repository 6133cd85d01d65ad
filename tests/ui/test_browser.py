"""The operator's tour in a real browser, against a real router process and a real receiver:
sign in, add a consumer, watch the dashboard count deliveries, see a rejection become a dead
letter, replay it once the receiver is fixed, and try an event in the playground.

Screenshots of every page land in test-output/screenshots/ for review.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.peers.receiver import Receiver
from tests.peers.router import Router
from tests.support.browser import PASSWORD, sign_in
from tests.support.traffic import play

pytestmark = pytest.mark.timeout(180)


def shot(page: Page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_operator_tour(
    tmp_path: Path, receiver: Receiver, browser: Browser, screenshots: Path
) -> None:
    router = Router(tmp_path / "home")
    with router.store() as store:
        store.users.add("operator", PASSWORD, "admin")
        store.users.add("watcher", PASSWORD, "viewer")
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(  # the pages' Content-Security-Policy blocks nothing they need
        "console",
        lambda message: (
            errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    with router:
        # Sign in; the dashboard starts empty.
        page.goto(router.url + "/")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        shot(page, screenshots, "01-login")
        page.get_by_label("User name").fill("operator")
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("Wrong user name or password.")
        page.get_by_label("User name").fill("operator")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("No consumers yet")).to_be_visible()
        shot(page, screenshots, "02-dashboard-empty")

        # Add a consumer pointing at the receiver; a bad value is refused beside its field.
        page.get_by_role("link", name="Add your first consumer").click()
        page.get_by_label("Name", exact=True).fill("lrs")
        page.get_by_label("URL").fill(receiver.url + "/xapi/statements")
        page.get_by_label("Batch size").fill("0")
        page.get_by_label("Linger (s)").fill("0.01")
        page.get_by_role("button", name="Add consumer").click()
        expect(page.locator(".field.invalid .message")).to_have_text(
            "Input should be greater than or equal to 1"
        )
        expect(page.get_by_label("URL")).to_have_value(receiver.url + "/xapi/statements")
        shot(page, screenshots, "03-consumer-form-invalid")
        page.get_by_label("Batch size").fill("50")
        page.get_by_role("button", name="Add consumer").click()
        expect(page.get_by_role("status")).to_contain_text("Saved.")
        page.get_by_role("button", name="Test connection").click()
        # The receiver answers an LRS probe (GET statements): the test reports the answer.
        expect(page.locator("#test-result")).to_contain_text("HTTP 200")
        shot(page, screenshots, "04-consumer-saved")

        # Send events; the dashboard counts them as they are delivered.
        page.get_by_role("link", name="Dashboard").click()
        row = page.locator('tr[data-consumer="lrs"]')
        expect(row.locator('[data-field="state"]')).to_have_text("running")
        assert router.post([play(i) for i in range(30)]).status_code == 202
        expect(row.locator('[data-field="delivered"]')).to_have_text("30")
        expect(row.locator('[data-field="throughput"]')).to_have_text(re.compile(r"/s$"))
        expect(row.locator('[data-field="latency"]')).to_have_text(re.compile(r" (ms|s|min)$"))
        shot(page, screenshots, "05-dashboard-delivering")

        # The receiver rejects one statement: it becomes a dead letter.
        poisoned = play(500)
        tried = router.api("POST", "/api/v1/playground", json=poisoned).json()
        statement_id = tried["results"][0]["items"][0]["id"]
        receiver.poison.add(statement_id)
        assert router.post([poisoned, play(501)]).status_code == 202
        expect(row.locator('[data-field="dead_letters_open"]')).to_have_text("1")
        expect(row.locator('[data-field="last_error"]')).to_contain_text("HTTP 400")
        expect(row.locator('[data-field="delivered"]')).to_have_text("31")
        shot(page, screenshots, "06-dashboard-dead-letter")
        page.get_by_role("link", name="Dead letters").first.click()
        letter_row = page.locator("table.grid tbody tr")
        expect(letter_row).to_have_count(1)
        expect(letter_row).to_contain_text("invalid statement")
        shot(page, screenshots, "07-dead-letters")
        letter_row.get_by_role("link").first.click()
        expect(page.get_by_role("heading", name=re.compile("Dead letter"))).to_be_visible()
        expect(page.locator("pre").nth(1)).to_contain_text(statement_id)
        shot(page, screenshots, "08-dead-letter")

        # Fix the receiver, replay: the statement arrives, the letter is marked replayed.
        receiver.poison.clear()
        page.get_by_role("button", name="Replay").click()
        expect(page.get_by_role("status")).to_contain_text("1 dead letter(s) marked for replay")
        page.reload()  # a banner is shown once
        expect(page.get_by_role("status")).to_have_count(0)
        page.goto(router.url + "/dead-letters?done=Your+password+expired")  # nor from a URL
        expect(page.get_by_role("status")).to_have_count(0)
        page.go_back()
        receiver.wait_for(32)
        assert statement_id in receiver.ids
        page.get_by_role("link", name=re.compile("dead letters of lrs")).click()
        page.get_by_label("State").select_option("any")
        page.get_by_role("button", name="Filter").click()
        expect(page.locator("table.grid tbody tr .state")).to_have_text("replayed", timeout=20_000)
        shot(page, screenshots, "09-dead-letters-replayed")
        page.goto(router.url + "/dead-letters")
        expect(page.get_by_text("No dead letters")).to_be_visible()

        # The playground shows what the consumer would get, and it is what the receiver got.
        page.get_by_role("link", name="Playground").click()
        page.get_by_label("Event").fill(json.dumps(play(7), indent=2))
        page.get_by_role("button", name="Try it").click()
        card = page.locator('article[data-consumer="lrs"]')
        expect(card).to_contain_text("Would receive 1 item")
        shown = json.loads(card.locator("pre.item").inner_text())
        assert shown["id"] in receiver.ids
        assert shown == next(r.item for r in receiver.received if r.id == shown["id"])
        shot(page, screenshots, "10-playground")
        page.get_by_label("Event").fill('{"name": "broken"')
        page.get_by_role("button", name="Try it").click()
        expect(page.get_by_role("alert")).to_contain_text("not valid JSON")

        [copied] = [c for c in context.cookies() if c["name"] == "er_session"]
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        # the cookie as it was before signing out: worthless
        context.add_cookies(
            [
                {
                    "name": copied["name"],
                    "value": copied["value"],
                    "domain": copied["domain"],
                    "path": copied["path"],
                }
            ]
        )
        page.goto(router.url + "/")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

        # A viewer sees everything and can change nothing.
        sign_in(page, router, "watcher")
        expect(page.get_by_role("link", name="Add consumer")).to_have_count(0)
        page.get_by_role("link", name="lrs").click()
        expect(page.get_by_label("URL")).to_be_disabled()
        expect(page.get_by_role("button", name="Test connection")).to_have_count(0)
        shot(page, screenshots, "11-viewer-consumer")
    context.close()
    assert errors == []
    assert receiver.duplicates == {}
