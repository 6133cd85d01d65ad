"""Consumer CRUD, change revisions for the running router, secrets, YAML import/export."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import yaml

from event_router.routing.consumer import Consumer
from event_router.store import (
    DuplicateConsumer,
    InvalidConfig,
    Store,
    UnknownConsumer,
)
from tests.support.databases import STORE_KEY

SECRETS = ("hunter2", "tok-123", "sign-456", "apikey-789")


def lrs(name: str = "lrs", **changes: Any) -> Consumer:
    data: dict[str, Any] = {
        "name": name,
        "url": "https://lrs.test/xAPI/statements",
        "auth": "basic",
        "username": "router",
        "password": "hunter2",
        "headers": {"X-Api-Key": "apikey-789", "X-Tenant": "t1"},
        "route": {"allow": [r"edx\.video\..*"], "courses": ["course-v1:a+b+c"]},
    }
    return Consumer.model_validate({**data, **changes})


def webhook(name: str = "hook") -> Consumer:
    return Consumer(
        name=name, protocol="edx", url="https://hooks.test/in", signing_secret="sign-456"
    )


def test_add_get_list(store: Store) -> None:
    record = store.consumers.add(lrs())
    store.consumers.add(webhook())
    assert record.id > 0 and record.revision == 1
    assert store.consumers.get("lrs") == lrs()
    assert [c.name for c in store.consumers.list()] == ["hook", "lrs"]
    assert store.consumers.get("lrs").password == "hunter2"  # the router needs it


def test_duplicate_and_unknown_names(store: Store) -> None:
    store.consumers.add(lrs())
    with pytest.raises(DuplicateConsumer, match="'lrs' already exists"):
        store.consumers.add(lrs())
    for call in (
        lambda: store.consumers.get("nope"),
        lambda: store.consumers.update("nope", {"linger": 1}),
        lambda: store.consumers.set_enabled("nope", False),
        lambda: store.consumers.remove("nope"),
    ):
        with pytest.raises(UnknownConsumer, match="no consumer named 'nope'"):
            call()


def test_update_is_partial_and_merges_the_route(store: Store) -> None:
    store.consumers.add(lrs())
    updated = store.consumers.update("lrs", {"batch_size": 10, "route": {"deny": ["x.y"]}})
    assert updated.batch_size == 10
    assert updated.route.allow == [r"edx\.video\..*"]
    assert updated.route.deny == ["x.y"]
    assert updated.password == "hunter2"
    assert store.consumers.get("lrs") == updated


def test_invalid_update_changes_nothing_and_names_the_field(store: Store) -> None:
    store.consumers.add(lrs())
    before = store.consumers.revision()
    with pytest.raises(InvalidConfig) as caught:
        store.consumers.update("lrs", {"batch_size": 0, "route": {"allow": ["("]}})
    assert any(line.startswith("batch_size:") for line in caught.value.errors)
    assert any(line.startswith("route.allow:") for line in caught.value.errors)
    assert store.consumers.get("lrs") == lrs()
    assert store.consumers.revision() == before
    with pytest.raises(InvalidConfig, match="renamed"):
        store.consumers.update("lrs", {"name": "other"})


def test_changes_since_reports_adds_edits_disables_and_removals(store: Store) -> None:
    start = store.consumers.revision()
    assert start == 0
    assert not store.consumers.changes_since(start)
    first = store.consumers.add(lrs())
    store.consumers.add(webhook())
    changes = store.consumers.changes_since(start)
    assert [r.consumer.name for r in changes.changed] == ["lrs", "hook"]
    assert changes.revision == 2 and changes.removed == []
    unchanged = store.consumers.changes_since(changes.revision)
    assert not unchanged and unchanged.revision == 2

    store.consumers.set_enabled("lrs", False)
    changes = store.consumers.changes_since(2)
    assert [(r.consumer.name, r.consumer.enabled) for r in changes.changed] == [("lrs", False)]

    store.consumers.remove("lrs")
    changes = store.consumers.changes_since(changes.revision)
    assert changes.changed == [] and changes.removed == ["lrs"]

    again = store.consumers.add(lrs())
    changes = store.consumers.changes_since(2)
    assert [r.consumer.name for r in changes.changed] == ["lrs"]
    assert changes.removed == []  # re-added since: a change, not a removal
    assert again.id != first.id  # ... and the router can tell it is a new consumer


def test_revisions_from_concurrent_writers_are_distinct_and_complete(store: Store) -> None:
    names = [f"c{i}" for i in range(8)]
    for name in names:
        store.consumers.add(lrs(name))
    seen: list[int] = []
    errors: list[BaseException] = []

    def edit(name: str) -> None:
        try:
            for size in range(1, 6):
                store.consumers.update(name, {"batch_size": size})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=edit, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    records = store.consumers.records()
    seen = [r.revision for r in records]
    assert len(set(seen)) == len(seen)
    assert store.consumers.revision() == 8 + 8 * 5
    assert all(r.consumer.batch_size == 5 for r in records)


def test_secrets_never_in_public_output_or_repr(store: Store) -> None:
    # a webhook: the one sink that takes a signing secret (sinks/requirements.py)
    store.consumers.add(lrs(sink="webhook", token="tok-123", signing_secret="sign-456"))
    record = store.consumers.record("lrs")
    shown = repr(record.public()) + repr(record) + repr(store.consumers.changes_since(0))
    for secret in SECRETS:
        assert secret not in shown
    assert record.public()["password"] == "set"
    assert record.public()["headers"] == {"X-Api-Key": "set", "X-Tenant": "t1"}


def test_yaml_round_trip_with_secrets(store: Store, tmp_path: Any) -> None:
    store.consumers.add(lrs())
    store.consumers.add(webhook())
    store.consumers.set_enabled("hook", False)
    text = store.consumers.export_yaml(with_secrets=True)
    assert "WITH SECRETS" in text
    with Store.open(f"sqlite:///{tmp_path / 'other.db'}", secret_key=STORE_KEY) as other:
        result = other.consumers.import_yaml(text)
        assert (result.added, result.updated) == (["hook", "lrs"], [])
        assert other.consumers.list() == store.consumers.list()


def test_export_without_secrets_reimports_keeping_the_stored_ones(store: Store) -> None:
    store.consumers.add(lrs())
    store.consumers.add(webhook())
    text = store.consumers.export_yaml()
    assert text.startswith("# ") and "not included" in text
    for secret in SECRETS:
        assert secret not in text
    result = store.consumers.import_yaml(text)
    assert result.unchanged == ["hook", "lrs"]
    edited = yaml.safe_dump(
        [{**doc, "linger": 0.5} for doc in yaml.safe_load(text)], sort_keys=False
    )
    assert store.consumers.import_yaml(edited).updated == ["hook", "lrs"]
    assert store.consumers.get("lrs").password == "hunter2"
    assert store.consumers.get("lrs").headers["X-Api-Key"] == "apikey-789"
    assert store.consumers.get("hook").signing_secret == "sign-456"
    assert store.consumers.get("lrs").linger == 0.5


def test_import_accepts_a_mapping_of_names(store: Store) -> None:
    text = """
    a:
      url: https://lrs.test/a
    b:
      protocol: caliper
      url: https://caliper.test/b
      auth: bearer
      token: tok-123
    """
    result = store.consumers.import_yaml(text.replace("\n    ", "\n"))
    assert result.added == ["a", "b"]
    assert store.consumers.get("b").sink is not None
    assert store.consumers.get("b").sink == "caliper"


def test_import_is_all_or_nothing_with_errors_per_consumer(store: Store) -> None:
    store.consumers.add(lrs("keep"))
    text = yaml.safe_dump(
        [
            {"name": "good", "url": "https://lrs.test/good"},
            {"name": "keep", "url": "https://lrs.test/changed", "batch_size": -1},
            {"name": "bad", "url": "https://lrs.test/bad", "route": {"allow": ["("]}},
            {"name": "worse", "url": "ftp://x", "auth": "bearer"},
        ]
    )
    with pytest.raises(InvalidConfig) as caught:
        store.consumers.import_yaml(text)
    errors = caught.value.errors
    assert any(e.startswith("keep.batch_size:") for e in errors)
    assert any(e.startswith("bad.route.allow:") for e in errors)
    assert any(e.startswith("worse:") for e in errors)
    assert "nothing imported" in str(caught.value)
    assert [c.name for c in store.consumers.list()] == ["keep"]
    assert store.consumers.get("keep") == lrs("keep")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- name: a\n  url: [unclosed\n", "line "),
        ("just a string", "expected a list"),
        ("- 42\n", "[0]: expected a mapping"),
        ("- url: https://x.test\n", "[0].name: Field required"),
        ("- {name: a, url: 'https://x'}\n- {name: a, url: 'https://y'}\n", "a: appears more"),
        ("a: {name: b, url: 'https://x'}\n", "differs from its key"),
    ],
)
def test_import_rejects_malformed_documents(store: Store, text: str, message: str) -> None:
    with pytest.raises(InvalidConfig, match=message.replace("[", r"\[").replace("]", r"\]")):
        store.consumers.import_yaml(text)
    assert store.consumers.list() == []
