"""A real browser for UI tests: Debian's Chromium driven by Playwright (never a downloaded build).

`scripts/test.sh` installs Chromium when it is missing. Without it these tests fail under CI=true
and are skipped, with the reason, elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
# Where the per-page screenshots go; `EVENT_ROUTER_SCREENSHOTS=docs/screenshots` refreshes the
# committed ones (docs/web.md shows them).
PAGE_SHOTS = Path(os.environ.get("EVENT_ROUTER_SCREENSHOTS") or SCREENSHOTS / "pages")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for one test module. Not for the whole session: Playwright's sync API keeps its
    event loop running in the main thread while it is open, and later tests that call
    `asyncio.run()` would then fail ("cannot be called from a running event loop")."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium (scripts/test.sh does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def page_shots() -> Path:
    PAGE_SHOTS.mkdir(parents=True, exist_ok=True)
    return PAGE_SHOTS
