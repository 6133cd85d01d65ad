"""Helpers of the browser tests: the operator's password and signing in through the login page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.peers.router import Router

PASSWORD = "operator-password"
expect.set_options(timeout=15_000)  # live figures refresh every 2 s; CI machines are slow


def sign_in(page: Page, router: Router, username: str) -> None:
    page.goto(router.url + "/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
