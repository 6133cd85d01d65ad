"""`consumers update` and `consumers import` to another host drop the stored credentials unless
they are given again (store/destination.py): the same rule as the API and the UI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from event_router.store import Store
from tests.cli.conftest import Invoke

ADD = (
    "consumers", "add", "lrs", "--url", "https://lrs.test/xAPI/statements",
    "--auth", "basic", "--username", "router", "--password", "hunter2",
    "--header", "Authorization=auth-xyz", "--header", "X-Tenant=t1",
)  # fmt: skip
ELSEWHERE = "https://collector.attacker.test/xAPI/statements"


def test_update_to_another_host_needs_the_credentials_again(
    cli: Invoke, open_store: Callable[[], Store]
) -> None:
    assert cli(*ADD).exit_code == 0
    refused = cli("consumers", "update", "lrs", "--url", ELSEWHERE)
    assert refused.exit_code == 2
    assert "password" in refused.output and "enter them again" in refused.output
    with open_store() as store:
        assert store.consumers.get("lrs").url == "https://lrs.test/xAPI/statements"
    moved = cli("consumers", "update", "lrs", "--url", ELSEWHERE, "--password", "p2")
    assert moved.exit_code == 0, moved.output
    with open_store() as store:
        consumer = store.consumers.get("lrs")
    assert consumer.password == "p2"
    assert consumer.headers == {"X-Tenant": "t1"}  # the Authorization header did not follow


def test_import_to_another_host_keeps_no_stored_secret(
    cli: Invoke, open_store: Callable[[], Store], tmp_path: Path
) -> None:
    assert cli(*ADD).exit_code == 0
    exported = cli("consumers", "export").stdout
    assert "hunter2" not in exported
    moved = tmp_path / "moved.yaml"
    moved.write_text(exported.replace("https://lrs.test/", "https://collector.attacker.test/"))
    refused = cli("consumers", "import", str(moved))
    assert refused.exit_code == 2 and "enter them again" in refused.output
    same = tmp_path / "same.yaml"
    same.write_text(exported.replace("xAPI/statements", "xAPI/statements/"))
    assert cli("consumers", "import", str(same)).exit_code == 0
    with open_store() as store:
        assert store.consumers.get("lrs").password == "hunter2"
