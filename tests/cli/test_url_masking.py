"""`consumers list/show/export` never print a URL's query values; userinfo is refused at `add`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from event_router.store import Store
from tests.cli.conftest import Invoke

URL = "https://collector.example.com/in?api_key=qk-7f3a-secret"
ADD = ("consumers", "add", "hook", "--protocol", "edx", "--sink", "webhook", "--url", URL,
       "--signing-secret", "s")  # fmt: skip


def test_list_show_export_mask_and_import_keeps_the_url(
    cli: Invoke, open_store: Callable[[], Store], tmp_path: Path
) -> None:
    assert cli(*ADD).exit_code == 0
    outputs = [
        cli("consumers", "list").stdout,
        cli("consumers", "list", "--json").stdout,
        cli("consumers", "show", "hook").stdout,
        cli("consumers", "export").stdout,
    ]
    for output in outputs:
        assert "qk-7f3a-secret" not in output
    assert "api_key=***" in outputs[-1]
    exported = tmp_path / "consumers.yaml"
    exported.write_text(outputs[-1])
    assert cli("consumers", "import", str(exported)).exit_code == 0
    with open_store() as store:
        assert store.consumers.get("hook").url == URL


def test_userinfo_credentials_are_refused_with_the_auth_options(cli: Invoke) -> None:
    refused = cli(
        "consumers", "add", "lrs", "--url", "https://u:pw-91c2@lrs.example.com/xapi/statements"
    )
    assert refused.exit_code == 2
    assert "--auth basic --username" in refused.output
    assert "pw-91c2" not in refused.output
