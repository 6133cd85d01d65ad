"""Password guessing and sign-in storms against a real router process with real concurrent
requests; the throttle's arithmetic (growing locks, a bounded table) on its own clock; trusted
proxies deciding which client address and scheme count."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from event_router.settings import Settings
from event_router.web.auth import LOGIN_COOKIE, SESSION_COOKIE
from event_router.web.login_limits import Attempt, LoginThrottle
from event_router.web.proxies import TrustedProxies
from tests.peers.router import Router

pytestmark = pytest.mark.timeout(120)
PASSWORD = "the-admin-password"


def _login_form(router: Router, **client: object) -> tuple[str, str]:
    """(login cookie, form token): one pair serves any number of attempts."""
    with httpx.Client(**client) as http:  # type: ignore[arg-type]
        page = http.get(f"{router.url}/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return page.cookies[LOGIN_COOKIE], found.group(1)


async def _attempts(
    router: Router, attempts: list[tuple[str, str]], forwarded_for: str
) -> list[httpx.Response]:
    """POST /login for every (user, password), all at once, as if from `forwarded_for`."""
    cookie, token = _login_form(router)
    headers = {"X-Forwarded-For": forwarded_for, "Cookie": f"{LOGIN_COOKIE}={cookie}"}
    limits = httpx.Limits(max_connections=len(attempts))
    async with httpx.AsyncClient(timeout=60, limits=limits, headers=headers) as http:
        return await asyncio.gather(
            *(
                http.post(
                    f"{router.url}/login",
                    data={"username": user, "password": password, "csrf_token": token},
                )
                for user, password in attempts
            )
        )


def _metric(router: Router, name: str) -> float:
    text = router.api("GET", "/metrics").text
    found = re.search(rf"^{name}(?:_total)? ([0-9.e+]+)$", text, re.MULTILINE)
    assert found, name
    return float(found.group(1))


def test_guesses_sent_at_once_get_no_further_than_guesses_in_a_row(tmp_path: Path) -> None:
    """The lock used to be checked before any failure was recorded: thirty guesses at once were
    all checked (29 wrong and the right one: signed in). Now each attempt counts before its
    password is checked, so at most five of them are."""
    router = Router(tmp_path / "home")
    with router.store() as store:
        store.users.add("admin", PASSWORD, "admin")
    with router:
        guesses = [("admin", f"guess-{i}") for i in range(29)] + [("admin", PASSWORD)]
        answers = asyncio.run(_attempts(router, guesses, "203.0.113.9"))
        checked = [a for a in answers if a.status_code in (303, 401)]
        refused = [a for a in answers if a.status_code == 429]
        assert len(checked) <= 5 and len(checked) + len(refused) == 30
        assert all(int(a.headers["retry-after"]) >= 1 for a in refused)
        if not any(a.status_code == 303 for a in answers):
            # Attempts turned away as busy are not counted; more waves get as far as five
            # checks in all, then none: the guesser is locked out, the right password too.
            wrong = [("admin", f"more-{i}") for i in range(30)]
            for _ in range(10):
                wave = asyncio.run(_attempts(router, wrong, "203.0.113.9"))
                assert all(a.status_code in (401, 429) for a in wave)
                checked += [a for a in wave if a.status_code == 401]
                if len(checked) >= 5:
                    break
            assert len(checked) == 5
            [again] = asyncio.run(_attempts(router, [("ADMIN", PASSWORD)], "203.0.113.9"))
            assert again.status_code == 429 and "Too many failed attempts" in again.text
        # ... while the admin, elsewhere, signs in at once.
        [admin] = asyncio.run(_attempts(router, [("admin", PASSWORD)], "198.51.100.4"))
        assert admin.status_code == 303 and SESSION_COOKIE in admin.cookies


def _vm_peak_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    assert found
    return int(found.group(1))


def test_a_sign_in_storm_takes_turns_and_the_api_keeps_answering(tmp_path: Path) -> None:
    """Sixty sign-ins at once (unknown users) used to hash sixty passwords at once, at 64 MiB
    each (the router went from 98 MB to 2 GB, the API to 16 s). Now at most two are checked at a
    time (counted by the router), the rest are told to retry, and memory stays put."""
    router = Router(tmp_path / "home")
    with router:
        assert router.process is not None
        router.status()  # the admin token exists before the storm
        before = _vm_peak_kib(router.process.pid)

        async def storm() -> tuple[list[httpx.Response], list[httpx.Response]]:
            logins = asyncio.ensure_future(
                _attempts(router, [(f"nobody-{i}", "a-guess") for i in range(60)], "192.0.2.1")
            )
            api = []
            async with httpx.AsyncClient(timeout=30) as http:
                while not logins.done():
                    api.append(
                        await http.get(
                            f"{router.url}/api/v1/consumers",
                            headers={"Authorization": f"Bearer {router.token}"},
                        )
                    )
            return await logins, api

        answers, api = asyncio.run(storm())
        statuses = sorted({a.status_code for a in answers})
        assert set(statuses) <= {401, 429}, statuses
        busy = [a for a in answers if a.status_code == 429]
        assert busy and all(a.headers["retry-after"] == "1" for a in busy)
        assert api and all(a.status_code == 200 for a in api)
        assert _metric(router, "event_router_login_checks_peak") <= 2
        assert _metric(router, "event_router_login_checks_busy") == len(busy)
        growth_mib = (_vm_peak_kib(router.process.pid) - before) / 1024
        assert growth_mib < 2 * 64 + 150, growth_mib  # two checks' worth, plus slack


# -- behind a proxy ---------------------------------------------------------------------------


def test_a_trusted_proxy_elsewhere_than_localhost_gets_secure_cookies(tmp_path: Path) -> None:
    """uvicorn believed X-Forwarded-Proto only from 127.0.0.1: behind a TLS proxy on another
    address, cookies lost `Secure`. EVENT_ROUTER_TRUSTED_PROXIES names the proxies."""
    router = Router(tmp_path / "home", EVENT_ROUTER_TRUSTED_PROXIES="127.0.0.2, 10.0.0.0/8")
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
    with router:
        proxy = httpx.HTTPTransport(local_address="127.0.0.2")  # a proxy on another address
        with httpx.Client(transport=proxy, headers=https) as http:
            assert "Secure" in http.get(f"{router.url}/login").headers["set-cookie"]
        with httpx.Client(headers=https) as http:  # 127.0.0.1 is no longer trusted
            assert "Secure" not in http.get(f"{router.url}/login").headers["set-cookie"]


def test_sessions_record_the_client_behind_the_proxy(tmp_path: Path) -> None:
    router = Router(tmp_path / "home")
    with router.store() as store:
        store.users.add("admin", PASSWORD, "admin")
    with router:
        [answer] = asyncio.run(_attempts(router, [("admin", PASSWORD)], "198.51.100.4"))
        assert answer.status_code == 303
    with router.store() as store:
        assert [s.client for s in store.sessions.list("admin")] == ["198.51.100.4"]


# -- the throttle's arithmetic ----------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _fail(throttle: LoginThrottle, user: str = "admin", client: str = "10.0.0.1") -> float:
    """One wrong attempt: 0.0 if it was counted, else the wait it was refused with."""
    attempt = throttle.begin(user, client)
    return 0.0 if isinstance(attempt, Attempt) else attempt


def test_each_lock_lasts_twice_as_long_as_the_one_before() -> None:
    clock = Clock()
    throttle = LoginThrottle(free=3, first_lock=10, longest_lock=35, clock=clock)
    assert [_fail(throttle) for _ in range(3)] == [0.0, 0.0, 0.0]
    waits = []
    for _ in range(4):
        waits.append(_fail(throttle))
        clock.now += waits[-1]  # wait exactly that long, then fail once more
        assert _fail(throttle) == 0.0
    assert waits == [10, 20, 35, 35]  # capped at longest_lock
    assert _fail(throttle, client="10.0.0.2") == 0.0  # the same name from elsewhere: free
    clock.now += 35 + throttle.quiet_reset + 1
    assert _fail(throttle) == 0.0  # a quiet spell starts afresh


def test_a_refunded_attempt_does_not_count() -> None:
    throttle = LoginThrottle(free=2, clock=Clock())
    first = throttle.begin("admin", "10.0.0.1")
    second = throttle.begin("admin", "10.0.0.1")
    assert isinstance(first, Attempt) and isinstance(second, Attempt)
    assert _fail(throttle) > 0  # locked
    throttle.refund(second)  # its password was never checked
    assert _fail(throttle) == 0.0


def test_a_full_table_forgets_expired_then_unlocked_keys_but_never_a_lock() -> None:
    """The table used to be cleared whole when full: ten thousand junk names erased the lock
    on the admin's name."""
    clock = Clock()
    throttle = LoginThrottle(free=2, first_lock=60, quiet_reset=30, max_keys=4, clock=clock)
    _fail(throttle, "admin", "203.0.113.9")
    _fail(throttle, "admin", "203.0.113.9")  # locked for 60 s
    _fail(throttle, "old", "10.0.0.1")
    clock.now += 40  # "old" is now expired (quiet for 40 s > 30 s); the lock is not
    for i in range(20):
        _fail(throttle, f"junk-{i}", "10.0.0.1")
        assert len(throttle) <= 4
    assert _fail(throttle, "admin", "203.0.113.9") > 0
    for i in range(6):  # a table of nothing but locks may exceed its bound, forgetting none
        _fail(throttle, f"locked-{i}", "10.0.0.3")
        _fail(throttle, f"locked-{i}", "10.0.0.3")
    assert throttle.locked() == 7 and len(throttle) >= 7


def test_trusted_proxies_are_addresses_or_networks() -> None:
    assert Settings(trusted_proxies="10.0.0.5, 10.1.0.0/16, ::1").trusted_proxies
    assert Settings(trusted_proxies="*").trusted_proxies == "*"
    with pytest.raises(ValidationError, match=r"'proxy\.example' is not an IP address or network"):
        Settings(trusted_proxies="10.0.0.5, proxy.example")


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "proto", "client", "scheme"),
    [
        ("10.0.0.5", "198.51.100.7", "https", "198.51.100.7", "https"),
        ("10.0.0.5", "6.6.6.6, 198.51.100.7, 10.0.0.9", "https", "198.51.100.7", "https"),
        ("10.0.0.5", "10.0.0.8, 10.0.0.9", "http", "10.0.0.8", "http"),
        ("192.0.2.1", "198.51.100.7", "https", "192.0.2.1", "http"),  # not a trusted proxy
        ("10.0.0.5", "", "javascript", "10.0.0.5", "http"),  # nothing usable forwarded
    ],
)
def test_the_client_is_the_nearest_address_not_a_trusted_proxy(
    peer: str, forwarded_for: str, proto: str, client: str, scheme: str
) -> None:
    seen: list[dict[str, object]] = []

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        seen.append(scope)

    headers = [(b"x-forwarded-proto", proto.encode())]
    if forwarded_for:
        headers.append((b"x-forwarded-for", forwarded_for.encode()))
    scope = {"type": "http", "scheme": "http", "client": (peer, 4000), "headers": headers}
    asyncio.run(TrustedProxies(app, "10.0.0.0/8")(scope, None, None))  # type: ignore[arg-type]
    assert seen[0]["client"][0] == client and seen[0]["scheme"] == scheme  # type: ignore[index]
