"""A consumer's privacy choices from the command line, stored on SQLite and PostgreSQL alike:
`--guest-learners` and the `raw` identity policy (protocol edx only)."""

from __future__ import annotations

import json
from collections.abc import Callable

import sqlalchemy as sa

from event_router.store import Store
from event_router.store.schema import consumers
from tests.cli.conftest import Invoke


def test_guest_learners_is_set_shown_and_cleared(
    cli: Invoke, open_store: Callable[[], Store]
) -> None:
    cli("consumers", "add", "g", "--url", "http://lrs.test/xapi", "--guest-learners")
    assert json.loads(cli("consumers", "show", "g", "--json").stdout)["guest_learners"] is True
    cli("consumers", "update", "g", "--no-guest-learners")
    assert json.loads(cli("consumers", "show", "g", "--json").stdout)["guest_learners"] is False
    cli("consumers", "update", "g", "--guest-learners")
    with open_store() as store:
        assert store.consumers.get("g").guest_learners is True


def test_a_consumer_stored_before_the_field_existed_takes_no_guests(
    cli: Invoke, open_store: Callable[[], Store]
) -> None:
    cli("consumers", "add", "old", "--url", "http://lrs.test/xapi")
    with open_store() as store, store._db.write() as conn:
        config = conn.execute(sa.select(consumers.c.config)).scalar_one()
        del config["guest_learners"]
        conn.execute(sa.update(consumers).values(config=config))
    with open_store() as store:
        assert store.consumers.get("old").guest_learners is False


def test_raw_identity_is_for_edx_consumers_only(cli: Invoke) -> None:
    refused = cli("consumers", "add", "x", "--url", "http://lrs.test/xapi", "--identity", "raw")
    assert refused.exit_code == 2 and "identity raw is for protocol edx" in refused.output
    cli(
        "consumers", "add", "e", "--protocol", "edx", "--url", "http://hook.test/",
        "--identity", "raw", "--signing-secret", "s",
    )  # fmt: skip
    assert json.loads(cli("consumers", "show", "e", "--json").stdout)["identity"] == "raw"
