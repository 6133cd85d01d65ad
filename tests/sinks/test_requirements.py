"""Configurations that cannot work are refused when written, through every path (store, API, UI,
CLI, YAML import), with one `field: message` line per problem; what can work is stored.

Before the check, each of the refused cases below was stored, and a webhook without a secret or a
bus on an http:// URL was only paused at its first delivery.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from event_router.routing.consumer import Consumer
from event_router.sinks.destinations import Allowlist, Destinations
from event_router.store import InvalidConfig, Store
from tests.web.conftest import Web, form_token, template, web

__all__ = ["template", "web"]  # the admin app's fixtures, for the API and UI cases

HOOK = {"name": "hook", "protocol": "edx", "sink": "webhook", "url": "https://h.test/in"}
BUS = {"name": "bus", "protocol": "xapi", "sink": "bus", "url": "redis://127.0.0.1:6379/0"}
LRS = {"name": "lrs", "protocol": "xapi", "url": "https://lrs.test/xAPI/statements"}
ARCHIVE = {"name": "files", "protocol": "xapi", "sink": "archive"}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'control.db'}"
    with Store.open(url, "test-secret", Destinations(None, tmp_path / "a")) as s:
        yield s


REFUSED: list[tuple[dict[str, Any], str]] = [
    (HOOK, "signing_secret: a webhook needs a signing secret"),
    ({**BUS, "url": "http://redis.test:6379"}, "url: a bus sink needs a redis://"),
    ({**BUS, "url": "redis://127.0.0.1/0?maxlen=many"}, "url: maxlen must be an integer"),
    ({**BUS, "url": "redis://127.0.0.1/0?topic="}, "url: topic is empty"),
    ({**BUS, "url": "redis://127.0.0.1/x"}, "url: 'x' is not a Redis database number"),
    ({**BUS, "url": "redis://:pw@127.0.0.1/0"}, "url: credentials in the URL"),
    ({**BUS, "url": "redis://127.0.0.1/0?socket_timeout=abc"}, "url: Invalid value"),
    ({**BUS, "url": "redis:///0"}, "url: names no host"),
    ({**BUS, "headers": {"X-A": "1"}}, "headers: a bus sends no HTTP headers"),
    ({**LRS, "url": "https://key:secret@lrs.test/x"}, "url: credentials in the URL"),
    ({**LRS, "url": "https:///xAPI/statements"}, "url: names no host"),
    ({**LRS, "url": "https://lrs.test:99999/x"}, "url: the port is not a number"),
    ({**LRS, "signing_secret": "s"}, "signing_secret: only webhooks sign requests"),
    ({**ARCHIVE, "url": "x", "auth": "bearer", "token": "t"}, "auth: an archive takes no"),
    ({**ARCHIVE, "url": "x", "headers": {"X-A": "1"}}, "headers: an archive sends no"),
    ({**ARCHIVE, "url": "s3://"}, "url: s3:// needs a bucket"),
    ({**ARCHIVE, "url": "https://files.test/x"}, "url: an archive is a directory"),
    ({**ARCHIVE, "url": "~/archive"}, "url: '~' is not expanded"),
    ({**ARCHIVE, "url": "x/../../escape"}, "url: '..' is not allowed"),
    ({**ARCHIVE, "url": "/etc/router"}, "is outside the archive root"),
    ({**ARCHIVE, "url": "file:///tmp"}, "is outside the archive root"),
]


@pytest.mark.parametrize(("config", "problem"), REFUSED, ids=[p for _, p in REFUSED])
def test_configurations_that_cannot_work_are_refused(
    store: Store, config: dict[str, Any], problem: str
) -> None:
    with pytest.raises(InvalidConfig) as caught:
        store.consumers.add(Consumer.model_validate(config))
    assert any(problem in line for line in caught.value.errors), caught.value.errors
    assert store.consumers.list() == []


def test_every_sink_kind_is_stored_when_it_can_work(store: Store, tmp_path: Path) -> None:
    for config in (
        {**HOOK, "signing_secret": "s3cret"},
        {
            **BUS,
            "url": "redis://127.0.0.1:6379/0?topic=xapi&maxlen=0",
            "auth": "bearer",
            "token": "t",
        },
        {**BUS, "name": "bus-unix", "url": "unix:///run/redis.sock"},
        {**LRS, "auth": "basic", "username": "u", "password": "p"},
        {"name": "cal", "protocol": "caliper", "url": "http://cal.test/e"},
        {**ARCHIVE, "name": "s3", "url": "s3://bucket/prefix"},
    ):
        store.consumers.add(Consumer.model_validate(config))
    relative = store.consumers.add(Consumer.model_validate({**ARCHIVE, "url": "lrs-copy"}))
    assert relative.consumer.url == str(tmp_path / "a" / "lrs-copy")  # made absolute in the root
    inside = store.consumers.add(
        Consumer.model_validate({**ARCHIVE, "name": "in", "url": f"file://{tmp_path}/a/in"})
    )
    assert inside.consumer.url == f"{tmp_path}/a/in"
    assert len(store.consumers.list()) == 8


def test_a_symbolic_link_out_of_the_root_is_refused(store: Store, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    os.symlink(tmp_path, tmp_path / "a" / "out")
    with pytest.raises(InvalidConfig, match="outside the archive root"):
        store.consumers.add(Consumer.model_validate({**ARCHIVE, "url": "out/x"}))


def test_an_update_that_breaks_a_consumer_is_refused_and_changes_nothing(store: Store) -> None:
    store.consumers.add(Consumer.model_validate({**HOOK, "signing_secret": "s3cret"}))
    with pytest.raises(InvalidConfig, match="signing_secret: a webhook needs"):
        store.consumers.update("hook", {"signing_secret": None})
    with pytest.raises(InvalidConfig, match="url: a bus sink needs"):
        store.consumers.update("hook", {"sink": "bus", "signing_secret": None})
    assert store.consumers.get("hook").signing_secret == "s3cret"


def test_a_yaml_import_with_one_broken_consumer_imports_nothing(store: Store) -> None:
    text = """
  - name: fine
    url: https://lrs.test/xAPI/statements
  - name: hook
    protocol: edx
    sink: webhook
    url: https://h.test/in
"""
    with pytest.raises(InvalidConfig) as caught:
        store.consumers.import_yaml(text)
    assert caught.value.errors == [
        "hook.signing_secret: a webhook needs a signing secret, so receivers can verify "
        "requests (X-Event-Router-Signature)"
    ]
    assert store.consumers.list() == []


def test_destinations_outside_the_allow_list_are_refused_at_creation(tmp_path: Path) -> None:
    allowlist = Allowlist.parse("lrs.test, *.partner.test, 10.0.0.0/8")
    url = f"sqlite:///{tmp_path / 'control.db'}"
    with Store.open(url, "test-secret", Destinations(allowlist, tmp_path / "a")) as store:
        for host in ("lrs.test", "x.partner.test", "10.1.2.3"):
            name = "ok-" + host.replace(".", "-")
            store.consumers.add(Consumer(name=name, url=f"https://{host}/xapi"))
        for host in ("127.0.0.1", "0x7f000001", "2130706433", "[::1]", "localhost", "127.1"):
            with pytest.raises(InvalidConfig, match="not in EVENT_ROUTER_ALLOWED_DESTINATIONS"):
                store.consumers.add(Consumer(name="no", url=f"http://{host}:8400/metrics"))
        with pytest.raises(InvalidConfig, match=r"partner\.test cannot be resolved"):
            store.consumers.add(Consumer(name="no", url="https://partner.test/xapi"))
        with pytest.raises(InvalidConfig, match="not in EVENT_ROUTER_ALLOWED_DESTINATIONS"):
            store.consumers.add(Consumer.model_validate({**BUS, "url": "redis://127.0.0.1/0"}))
        with pytest.raises(InvalidConfig, match="unix socket is not a network destination"):
            store.consumers.add(Consumer.model_validate({**BUS, "url": "unix:///run/r.sock"}))


# -- the same refusal through the API, the UI and the CLI -----------------------------------------


def test_the_api_refuses_with_one_line_per_problem(web: Web) -> None:
    created = web.admin().post("/api/v1/consumers", json=HOOK)
    assert created.status_code == 400
    assert created.json()["errors"][0].startswith("signing_secret: a webhook needs")
    web.admin().post("/api/v1/consumers", json={**BUS, "name": "b"}).raise_for_status()
    changed = web.admin().patch("/api/v1/consumers/b", json={"url": "http://redis.test"})
    assert changed.status_code == 400 and "url: a bus sink needs" in changed.json()["errors"][0]


def test_the_ui_shows_the_problem_beside_the_field(web: Web) -> None:
    session = web.login()
    page = session.client.get("/consumers/new")
    form = {
        "csrf_token": form_token(page.text),
        **{k: v for k, v in HOOK.items()},
        "auth": "none",
        "identity": "anonymous",
        "batch_size": "100",
        "linger": "0.02",
        "max_in_flight": "1",
        "timeout": "10",
        "enabled": "on",
    }
    answer = session.client.post("/consumers/new", data=form)
    assert answer.status_code == 400 and "a webhook needs a signing secret" in answer.text
    assert web.store.consumers.list() == []


def test_the_cli_refuses_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from event_router.cli import _register, app

    monkeypatch.setenv("EVENT_ROUTER_HOME", str(tmp_path))
    monkeypatch.delenv("EVENT_ROUTER_DATABASE_URL", raising=False)
    _register()
    result = CliRunner().invoke(
        app, ["consumers", "add", "bus", "--sink", "bus", "--url", "http://redis.test:6379"]
    )
    assert result.exit_code == 2, result.output
    assert "url: a bus sink needs a redis://" in result.stderr
    archive = CliRunner().invoke(
        app, ["consumers", "add", "files", "--sink", "archive", "--url", "/etc/x"]
    )
    assert (
        archive.exit_code == 2 and f"inside the archive root {tmp_path}/archives" in archive.stderr
    )
