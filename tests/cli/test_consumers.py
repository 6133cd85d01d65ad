"""`event-router consumers …` against a tmp home (SQLite) and against PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import yaml

from event_router.store import Store
from tests.cli.conftest import Invoke

SECRETS = ("hunter2", "tok-123", "auth-xyz")
ADD = (
    "consumers", "add", "lrs", "--url", "https://lrs.test/xAPI/statements",
    "--auth", "basic", "--username", "router", "--password", "hunter2",
    "--header", "Authorization=auth-xyz", "--header", "X-Tenant=t1",
    "--allow", r"edx\.video\..*", "--allow", "edx.course.enrollment.activated",
    "--course", "course-v1:a+b+c", "--match", "context.org_id=^edX$",
    "--match", "context.org_id=^MITx$", "--override", 'context={"platform": "x"}',
    "--batch-size", "20", "--linger", "0.5", "--activity-type", "video",
    "--activity-type", "http://adlnet.gov/expapi/activities/course",
)  # fmt: skip


def no_secrets(*outputs: str) -> None:
    for output in outputs:
        for secret in SECRETS:
            assert secret not in output


def test_add_list_show_update_enable_disable_remove(
    cli: Invoke, open_store: Callable[[], Store]
) -> None:
    added = cli(*ADD)
    assert added.exit_code == 0, added.output
    assert "added consumer lrs" in added.stdout
    with open_store() as store:
        consumer = store.consumers.get("lrs")
    assert consumer.password == "hunter2" and consumer.batch_size == 20
    assert consumer.route.match_params == {"context.org_id": ["^edX$", "^MITx$"]}
    assert consumer.override_args == {"context": {"platform": "x"}}
    assert consumer.headers == {"Authorization": "auth-xyz", "X-Tenant": "t1"}
    assert consumer.route.activity_types == ["video", "http://adlnet.gov/expapi/activities/course"]

    listed = cli("consumers", "list")
    assert listed.exit_code == 0 and "lrs" in listed.stdout and "basic" in listed.stdout
    as_json = json.loads(cli("consumers", "list", "--json").stdout)
    assert [c["name"] for c in as_json] == ["lrs"] and as_json[0]["password"] == "set"

    shown = cli("consumers", "show", "lrs")
    assert "password: set" in shown.stdout and "token: unset" in shown.stdout
    shown_json = json.loads(cli("consumers", "show", "lrs", "--json").stdout)
    assert shown_json["headers"] == {"Authorization": "set", "X-Tenant": "t1"}
    assert shown_json["route"]["courses"] == ["course-v1:a+b+c"]

    updated = cli("consumers", "update", "lrs", "--deny", "edx.video.paused", "--linger", "1")
    assert updated.exit_code == 0, updated.output
    with open_store() as store:
        consumer = store.consumers.get("lrs")
    assert consumer.route.deny == ["edx.video.paused"]
    assert consumer.route.allow == [r"edx\.video\..*", "edx.course.enrollment.activated"]
    assert consumer.linger == 1 and consumer.password == "hunter2"

    assert cli("consumers", "disable", "lrs").exit_code == 0
    with open_store() as store:
        assert not store.consumers.get("lrs").enabled
    assert "enabled: no" in cli("consumers", "show", "lrs").stdout
    assert cli("consumers", "enable", "lrs").exit_code == 0
    with open_store() as store:
        assert store.consumers.get("lrs").enabled

    refused = cli("consumers", "remove", "lrs", input="n\n")
    assert refused.exit_code == 1
    removed = cli("consumers", "remove", "lrs", "--yes")
    assert removed.exit_code == 0 and "removed consumer lrs" in removed.stdout
    with open_store() as store:
        assert store.consumers.list() == []
    no_secrets(added.output, listed.output, shown.output, json.dumps(shown_json), updated.output)


def test_sink_options_are_set_by_name_and_checked(
    cli: Invoke, open_store: Callable[[], Store]
) -> None:
    result = cli(
        "consumers", "add", "bus", "--protocol", "xapi", "--sink", "bus",
        "--url", "redis://127.0.0.1:6379/0", "--sink-option", "topic=learning",
        "--sink-option", "maxlen=5",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with open_store() as store:
        assert store.consumers.get("bus").sink_options == {"topic": "learning", "maxlen": 5}
    wrong = cli("consumers", "update", "bus", "--sink-option", "stream=x")
    assert wrong.exit_code != 0 and "stream" in wrong.output
    unknown = cli("consumers", "add", "p", "--sink", "pigeon", "--url", "http://x/")
    assert unknown.exit_code != 0 and "unknown sink 'pigeon'" in unknown.output
    with open_store() as store:
        assert store.consumers.get("bus").sink_options == {"topic": "learning", "maxlen": 5}


def test_add_disabled_and_other_protocols(cli: Invoke, open_store: Callable[[], Store]) -> None:
    result = cli(
        "consumers", "add", "cal", "--protocol", "caliper", "--url", "https://cal.test/e",
        "--auth", "bearer", "--token", "tok-123", "--sensor-id", "https://lms.test/sensor",
        "--identity", "username", "--disabled", "--org", "edX", "--site", "lms.test",
        "--user", "42", "--max-in-flight", "4", "--timeout", "3",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with open_store() as store:
        consumer = store.consumers.get("cal")
    assert not consumer.enabled and consumer.sink == "caliper"
    assert consumer.identity.value == "username" and consumer.max_in_flight == 4
    assert consumer.route.orgs == ["edX"] and consumer.route.users == ["42"]
    assert "tok-123" not in cli("consumers", "show", "cal").output


def test_errors_are_clear_and_without_tracebacks(cli: Invoke) -> None:
    assert cli(*ADD).exit_code == 0
    duplicate = cli(*ADD)
    assert duplicate.exit_code == 1 and "already exists" in duplicate.stderr

    for args in (
        ("consumers", "show", "nope"),
        ("consumers", "update", "nope", "--linger", "1"),
        ("consumers", "enable", "nope"),
        ("consumers", "remove", "nope", "--yes"),
    ):
        result = cli(*args)
        assert result.exit_code == 1, args
        assert "error: no consumer named 'nope'" in result.stderr

    invalid = cli("consumers", "add", "Bad Name", "--url", "https://x.test", "--batch-size", "0")
    assert invalid.exit_code == 2
    assert "name: use 1-63 lowercase" in invalid.stderr
    assert "batch_size: Input should be greater than or equal to 1" in invalid.stderr

    no_password = cli("consumers", "add", "x", "--url", "https://x.test", "--auth", "basic")
    assert (
        no_password.exit_code == 2
        and "basic auth needs username and password" in no_password.stderr
    )
    assert cli("consumers", "add", "x").exit_code == 2  # no --url: url: Field required
    assert "url: Field required" in cli("consumers", "add", "x").stderr
    assert cli("consumers", "add", "x", "--url", "https://x", "--header", "novalue").exit_code == 2
    assert cli("consumers", "add", "x", "--url", "https://x", "--protocol", "lti").exit_code == 2
    assert cli("consumers", "update", "lrs").exit_code == 2  # nothing to change
    bad_update = cli("consumers", "update", "lrs", "--allow", "(")
    assert bad_update.exit_code == 2 and "route.allow" in bad_update.stderr


def test_export_and_import(cli: Invoke, tmp_path: Path, open_store: Callable[[], Store]) -> None:
    assert cli(*ADD).exit_code == 0
    assert (
        cli(
            "consumers",
            "add",
            "hook",
            "--protocol",
            "edx",
            "--url",
            "https://h.test",
            "--signing-secret",
            "sign-xyz",
        ).exit_code
        == 0
    )
    exported = cli("consumers", "export")
    assert exported.exit_code == 0 and exported.stdout.startswith("# ")
    assert "not included" in exported.stdout
    no_secrets(exported.stdout)
    with_secrets = cli("consumers", "export", "--with-secrets").stdout
    assert "hunter2" in with_secrets and "auth-xyz" in with_secrets

    path = tmp_path / "consumers.yaml"
    path.write_text(with_secrets)
    for name in ("lrs", "hook"):
        assert cli("consumers", "remove", name, "--yes").exit_code == 0
    imported = cli("consumers", "import", str(path))
    assert imported.exit_code == 0, imported.output
    assert "added: hook, lrs" in imported.stdout
    assert cli("consumers", "export", "--with-secrets").stdout == with_secrets

    documents = yaml.safe_load(exported.stdout)
    documents[0]["batch_size"] = 0
    documents[1]["route"] = {"allow": ["("]}
    documents.append({"name": "new", "url": "https://n.test"})
    path.write_text(yaml.safe_dump(documents))
    failed = cli("consumers", "import", str(path))
    assert failed.exit_code == 2
    assert "nothing imported" in failed.stderr
    assert "hook.batch_size:" in failed.stderr and "lrs.route.allow:" in failed.stderr
    with open_store() as store:
        assert [c.name for c in store.consumers.list()] == ["hook", "lrs"]

    missing = cli("consumers", "import", str(tmp_path / "absent.yaml"))
    assert missing.exit_code == 2 and "cannot read" in missing.stderr


def test_import_from_stdin_keeps_secrets(cli: Invoke, open_store: Callable[[], Store]) -> None:
    assert cli(*ADD).exit_code == 0
    text = cli("consumers", "export").stdout.replace("batch_size: 20", "batch_size: 30")
    result = cli("consumers", "import", "-", input=text)
    assert result.exit_code == 0 and "updated: lrs" in result.stdout
    with open_store() as store:
        consumer = store.consumers.get("lrs")
    assert consumer.batch_size == 30 and consumer.password == "hunter2"
    assert consumer.headers["Authorization"] == "auth-xyz"
