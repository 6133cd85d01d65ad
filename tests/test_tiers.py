"""The test tiers of tests/tiers.py: what is marked, and the --fast guard on processes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests import tiers
from tests.peers.router import ROUTER


def _start_router() -> None:
    """Never called: a test reaching it starts the router as far as the static walk can tell."""
    subprocess.run([*ROUTER, "--help"], check=True)


def test_a_test_without_peers_or_processes_is_in_the_unit_tier(
    request: pytest.FixtureRequest,
) -> None:
    assert not [tier for tier in tiers.TIERS if request.node.get_closest_marker(tier)]


def test_a_test_reaching_the_router_through_a_helper_is_e2e(request: pytest.FixtureRequest) -> None:
    if False:  # referenced, not run
        _start_router()
    assert request.node.get_closest_marker("e2e") is not None


def test_a_test_using_a_peer_fixture_is_marked_peers(
    request: pytest.FixtureRequest, receiver: object
) -> None:
    assert request.node.get_closest_marker("peers") is not None


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        ([sys.executable, "-m", "event_router", "run"], "the router"),
        ([sys.executable, "-m", "event_router.cli"], "the router"),
        (["/venv/bin/event-router", "status"], "the router"),
        (f"{sys.executable} -m event_router transform", "the router"),
        ([sys.executable, "-m", "tests.peers.openedx", "schema"], "a test peer"),
        ([sys.executable, "-P", str(tiers.TESTS / "peers" / "ralph_launcher.py")], "a test peer"),
        (["/usr/bin/chromium", "--headless"], "a browser"),
        ([sys.executable, "-c", "import event_router"], None),
        (["promtool", "check", "rules", "x.yml"], None),
    ],
)
def test_the_guard_tells_excluded_processes(argv: object, reason: str | None) -> None:
    assert tiers._excluded(argv) == reason


def test_the_guard_fails_a_test_that_starts_the_router(monkeypatch: pytest.MonkeyPatch) -> None:
    """Installed here on a restored Popen, so the check holds with or without --fast.

    (Its `-m event_router` marks it e2e itself: it runs in the full suite.)"""
    monkeypatch.setattr(subprocess.Popen, "__init__", subprocess.Popen.__init__)
    tiers._guard_subprocesses()
    with pytest.raises(pytest.fail.Exception, match="started the router"):
        subprocess.run([sys.executable, "-m", "event_router", "--version"], check=False)
    done = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, check=True)
    assert done.stdout == b"42\n"
