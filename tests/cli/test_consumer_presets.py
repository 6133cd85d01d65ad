"""`consumers add/update --events erb-default` and `events:` in a YAML import."""

from __future__ import annotations

from collections.abc import Callable

from event_router.routing.presets import ERB_DEFAULT_CALIPER, ERB_DEFAULT_XAPI
from event_router.store import Store
from tests.cli.conftest import Invoke

URL = ("--url", "https://lrs.test/xAPI/statements")


def test_add_and_update_with_the_erb_default_preset(
    cli: Invoke, open_store: Callable[[], Store]
) -> None:
    added = cli("consumers", "add", "lrs", *URL, "--events", "erb-default", "--allow", "x.y")
    assert added.exit_code == 0, added.output
    with open_store() as store:
        assert store.consumers.get("lrs").route.allow == [*ERB_DEFAULT_XAPI, "x.y"]

    # switching protocol: the preset follows the stored consumer's new protocol
    changed = cli(
        "consumers", "update", "lrs", "--protocol", "caliper", "--sink", "caliper",
        "--url", "https://c.test/caliper",
        "--events", "erb-default",
    )  # fmt: skip
    assert changed.exit_code == 0, changed.output
    with open_store() as store:
        assert store.consumers.get("lrs").route.allow == list(ERB_DEFAULT_CALIPER)

    # `all` replaces the list with nothing (every event), it does not add to it
    assert cli("consumers", "update", "lrs", "--events", "all").exit_code == 0
    with open_store() as store:
        assert store.consumers.get("lrs").route.allow == []


def test_unknown_preset_is_refused_by_the_cli(cli: Invoke, open_store: Callable[[], Store]) -> None:
    refused = cli("consumers", "add", "lrs", *URL, "--events", "erb")
    assert refused.exit_code == 2
    assert "erb-default" in refused.output
    with open_store() as store:
        assert store.consumers.list() == []


def test_yaml_import_takes_events_and_export_writes_the_list(
    cli: Invoke, open_store: Callable[[], Store], tmp_path: object
) -> None:
    document = (
        "- name: lrs\n  url: https://lrs.test/xAPI/statements\n  events: erb-default\n"
        "- name: cal\n  protocol: caliper\n  url: https://c.test/caliper\n  events: erb-default\n"
        "  route: {deny: [problem_check]}\n"
    )
    imported = cli("consumers", "import", "-", input=document)
    assert imported.exit_code == 0, imported.output
    with open_store() as store:
        assert store.consumers.get("lrs").route.allow == list(ERB_DEFAULT_XAPI)
        cal = store.consumers.get("cal").route
    assert cal.allow == list(ERB_DEFAULT_CALIPER) and cal.deny == ["problem_check"]
    exported = cli("consumers", "export").stdout
    assert "events:" not in exported and "edx.course.grade.now_failed" in exported
    again = cli("consumers", "import", "-", input=exported)
    assert "unchanged: cal, lrs" in again.stdout

    bad = cli("consumers", "import", "-", input="- name: x\n  url: http://a.test\n  events: 3\n")
    assert bad.exit_code == 2 and "x: events: expected the name of an event set" in bad.output
