"""The admin pages and the consumer form's helpers in a real browser (Debian's Chromium) against
a real router process and a real receiver: users and tokens, the audit log, YAML import and
export, rewind, backfill progress; fields by protocol / transport / auth, the event picker, the
route preview, and "test connection" with the values in the form."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest
import yaml
from playwright.sync_api import Browser, Page, expect

from event_router.backfill import progress
from tests.peers.receiver import Receiver
from tests.peers.router import Router
from tests.support.browser import PASSWORD, sign_in
from tests.support.traffic import play
from tests.support.wait import wait_until

pytestmark = pytest.mark.timeout(240)
expect.set_options(timeout=15_000)


def _page(browser: Browser, router: Router, username: str) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("pageerror", lambda error: pytest.fail(f"page error: {error}"))
    sign_in(page, router, username)
    return page


def test_admin_pages_in_the_browser(tmp_path: Path, receiver: Receiver, browser: Browser) -> None:
    router = Router(tmp_path / "home")
    with router.store() as store:
        store.users.add("operator", PASSWORD, "admin")
        store.users.add("watcher", PASSWORD, "viewer")
    router.add_consumer(name="lrs", url=receiver.url + "/xapi/statements", linger=0.01)
    with router:
        page = _page(browser, router, "operator")
        page.get_by_role("link", name="Admin").click()
        expect(page.get_by_role("heading", level=1, name="Users and tokens")).to_be_visible()

        # Adding a user: every problem at once, each at its field.
        form = page.locator("#add-user")
        form.get_by_label("Password", exact=True).fill("short")
        form.get_by_label("Password again").fill("other")
        form.get_by_role("button", name="Add user").click()
        for label in ("User name", "Password", "Password again"):
            field = page.locator("#add-user").get_by_label(label, exact=True)
            expect(field).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#add-user .message")).to_have_count(3)
        form = page.locator("#add-user")
        form.get_by_label("User name").fill("nina")
        form.get_by_label("Password", exact=True).fill("nina-password")
        form.get_by_label("Password again").fill("nina-password")
        form.get_by_role("button", name="Add user").click()
        expect(page.get_by_role("status")).to_contain_text("Added viewer nina")
        expect(page.locator('tr[data-user="nina"]')).to_be_visible()

        # A token: its secret shown once, working, then revoked.
        tokens = page.locator("#create-token")
        tokens.get_by_label("Name").fill("grafana")
        tokens.get_by_label("For user").select_option("nina")
        tokens.get_by_role("button", name="Create token").click()
        secret = page.locator("#token-secret").inner_text().strip()
        assert secret.startswith("ert_")
        me = httpx.get(router.url + "/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
        assert me.json()["username"] == "nina"
        page.goto(router.url + "/admin/users")
        expect(page.locator("#new-token")).to_have_count(0)
        assert secret not in page.content()
        page.on("dialog", lambda dialog: dialog.accept())
        row = page.locator("#tokens tr", has_text="grafana")
        row.get_by_role("button", name="Revoke").click()
        expect(page.get_by_role("status")).to_contain_text("Revoked token")
        gone = httpx.get(router.url + "/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
        assert gone.status_code == 401

        # The audit log names who did what through the UI, and never a secret.
        page.get_by_role("link", name="Audit log").click()
        audit = page.locator("#audit")
        expect(audit).to_contain_text("token.revoke")
        expect(audit.locator("tr", has_text="nina").first).to_contain_text("operator")
        assert secret not in page.content() and "nina-password" not in page.content()

        # YAML: export (a download, no secrets), edit, preview, confirm.
        page.get_by_role("link", name="Configuration").click()
        with page.expect_download() as download:
            page.get_by_role("link", name="Download YAML").click()
        document = yaml.safe_load(Path(download.value.path()).read_text())
        assert [c["name"] for c in document] == ["lrs"]
        document[0]["batch_size"] = 9
        page.get_by_label("YAML document").fill(yaml.safe_dump(document))
        page.get_by_role("button", name="Show what would change").click()
        expect(page.locator("#import-plan")).to_contain_text("changed: lrs (batch_size)")
        with router.store() as store:
            assert store.consumers.get("lrs").batch_size != 9  # a preview writes nothing
        page.get_by_role("button", name="Apply these changes").click()
        expect(page.get_by_role("status")).to_contain_text("1 changed")
        with router.store() as store:
            assert store.consumers.get("lrs").batch_size == 9

        # Rewind from the consumer's page: the receiver gets the events again.
        assert router.post([play(i) for i in range(5)]).status_code == 202
        receiver.wait_for(5)
        page.goto(router.url + "/consumers/lrs/edit")
        page.get_by_label("Send again what was accepted since").fill("later")
        page.get_by_role("button", name="Rewind").click()
        expect(page.locator("#e-since")).to_contain_text("neither a duration")
        page.get_by_label("Send again what was accepted since").fill("1h")
        page.get_by_role("button", name="Rewind").click()
        expect(page.get_by_role("status")).to_contain_text("5 events accepted since")
        wait_until(lambda: receiver.count == 10, message="the 5 events sent again")
        assert set(receiver.duplicates.values()) == {2}  # the same ids again
        page.goto(router.url + "/admin/audit?action=consumer.rewind")
        expect(page.locator("#audit")).to_contain_text("operator")

        # Backfill progress, as a running CLI job writes it.
        now = time.time()
        record = {
            "state": "running",
            "pid": os.getpid(),
            "started_at": now - 30,
            "updated_at": now,
            "dry_run": False,
            "consumers": ["lrs"],
            "files": 3,
            "files_done": 1,
            "bytes_done": 250,
            "bytes_total": 1000,
            "read": 4321,
            "delivered": 4000,
            "errors": 0,
            "retrying": False,
        }
        progress.write(router.home, record)
        page.get_by_role("link", name="Backfill").click()
        expect(page.locator("#backfill")).to_contain_text("4,321")
        progress.write(router.home, {**record, "state": "done", "bytes_done": 1000, "read": 9999})
        # The page refreshes itself while the job runs, and shows the end.
        expect(page.locator('#backfill [data-field="state"]')).to_have_text("done")
        expect(page.locator("#backfill")).to_contain_text("9,999")
        page.context.close()

        # A viewer sees no admin link and gets a 403 from the pages.
        viewer = _page(browser, router, "watcher")
        expect(viewer.get_by_role("link", name="Admin")).to_have_count(0)
        viewer.goto(router.url + "/admin/users")
        expect(viewer.get_by_role("heading", name="Not allowed")).to_be_visible()
        viewer.context.close()


def test_consumer_form_helpers(tmp_path: Path, receiver: Receiver, browser: Browser) -> None:
    router = Router(tmp_path / "home")
    with router.store() as store:
        store.users.add("operator", PASSWORD, "admin")
    receiver.require_basic("key", "right-secret")
    with router:
        # Events in the journal for the route preview (no consumer yet: nothing is sent).
        assert router.post([play(i) for i in range(3)]).status_code == 202
        page = _page(browser, router, "operator")
        page.goto(router.url + "/consumers/new")

        # Fields by protocol, transport and authentication.
        password = page.get_by_label("Password")
        expect(password).to_be_hidden()
        page.get_by_label("Authentication").select_option("basic")
        expect(password).to_be_visible()
        expect(page.get_by_label("Bearer token")).to_be_hidden()
        expect(page.get_by_label("Webhook signing secret")).to_be_hidden()
        expect(page.get_by_label("Caliper sensor id")).to_be_hidden()
        page.get_by_label("Protocol").select_option("caliper")
        expect(page.get_by_label("Caliper sensor id")).to_be_visible()
        expect(page.get_by_label("Override arguments")).to_be_hidden()
        page.get_by_label("Protocol").select_option("edx")  # default transport: a webhook
        expect(page.get_by_label("Webhook signing secret")).to_be_visible()
        page.get_by_label("Transport", exact=True).select_option("archive")
        expect(page.get_by_label("Authentication")).to_be_hidden()
        expect(page.get_by_label("Extra HTTP headers")).to_be_hidden()
        page.get_by_label("Transport", exact=True).select_option("")
        page.get_by_label("Protocol").select_option("xapi")

        # The event picker offers the registry's names; the preview hints at a wrong pattern.
        options = page.locator("#event-names option")
        assert options.count() > 100
        assert "play_video" in options.evaluate_all("all => all.map(o => o.value)")
        page.get_by_label("Allow events").fill("edx\\.video\\..*")
        page.get_by_role("button", name="Preview on recent events").click()
        result = page.locator("#route-preview-result")
        expect(result).to_contain_text("0 of the last 3 journal events match")
        expect(result.locator(".hint")).to_contain_text("play_video")
        page.get_by_label("Allow events").fill("")
        page.get_by_label("Add an event name").fill("play_video")
        page.get_by_role("button", name="Add to allow").click()
        expect(page.get_by_label("Allow events")).to_have_value("play_video")
        expect(result).to_contain_text("3 of the last 3 journal events match")

        # Test connection with unsaved values; errors first, marked at their fields.
        page.get_by_label("Name", exact=True).fill("Bad Name")
        page.get_by_role("button", name="Test connection").click()
        expect(page.locator("#test-result")).to_contain_text("fix the marked fields")
        expect(page.get_by_label("URL")).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#e-url")).to_be_visible()
        page.get_by_label("Name", exact=True).fill("lrs")
        page.get_by_label("URL").fill(receiver.url + "/xapi/statements")
        page.get_by_label("User name").fill("key")
        password.fill("right-secret")
        page.get_by_role("button", name="Test connection").click()
        expect(page.locator("#test-result")).to_contain_text("HTTP 200")
        page.get_by_role("button", name="Add consumer").click()
        expect(page.get_by_role("status")).to_contain_text("Saved.")
        # Saved: the blank password box means the stored one; a typo typed is tested as typed.
        page.get_by_role("button", name="Test connection").click()
        expect(page.locator("#test-result")).to_contain_text("HTTP 200")
        page.get_by_label("Password").fill("typo")
        page.get_by_role("button", name="Test connection").click()
        expect(page.locator("#test-result")).to_contain_text("HTTP 401")
        with router.store() as store:
            assert store.consumers.get("lrs").password == "right-secret"
        page.context.close()
