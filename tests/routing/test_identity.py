"""The identity policies of routing/identity.py: which learner an event names, the imported table,
and how each policy (anonymous, username, mbox, mbox_sha1sum, raw) shows the learner in xAPI,
Caliper and the edx protocol, without the raw user id leaving the router unless asked for."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from event_router.events import TrackingEvent, normalise
from event_router.routing.identity import (
    EDX_KIND,
    IdentityError,
    IdentityPolicy,
    IdentityTable,
    Kind,
    Learner,
    Policy,
    UnknownLearner,
    learner_key,
)

SECRET, LMS = "identity-unit-tests", "http://lms.test"
IMPORTED_XAPI = "0c2a3d9e-1111-4aaa-8bbb-000000000001"
IMPORTED_CALIPER = "0c2a3d9e-2222-4aaa-8bbb-000000000002"
EMAIL = "Ann.Lee@Example.ORG"


def event(context: dict[str, Any] | None = None, data: Any = None) -> TrackingEvent:
    context = {"user_id": 7, "username": "ann", **(context or {})}
    return normalise(
        {
            "name": "play_video",
            "timestamp": "2024-01-01T00:00:00+00:00",
            "context": {"course_id": "course-v1:edX+DemoX+Demo_Course", **context},
            "data": {"id": "v1", "currentTime": 1} if data is None else data,
        }
    )


def table() -> IdentityTable:
    imported = IdentityTable()
    imported.add("xapi", IMPORTED_XAPI, "7", "ann", EMAIL)
    imported.add("caliper", IMPORTED_CALIPER, "7", "ann")
    return imported


def policy(kind: Policy, imported: IdentityTable | None = None, **extra: Any) -> IdentityPolicy:
    return IdentityPolicy(SECRET, LMS, imported, kind, **extra)


# -- which learner ------------------------------------------------------------------------------


def test_the_learner_acted_upon_in_data_wins_over_the_one_in_context() -> None:
    staff_acting_on_learner = event({"user_id": 1, "username": "staff"}, {"user_id": 42})
    assert learner_key(staff_acting_on_learner) == ("42", None)
    assert Learner.of(event()) == Learner("7", "ann")


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"user_id": " 9 ", "username": "  "}, ("9", None)),  # blanks are no name
        ({"user_id": True, "username": "bob"}, (None, "bob")),  # a bool is no user id
        ({"user_id": 3.0, "username": None}, (None, None)),
    ],
)
def test_only_text_and_integers_name_a_learner(
    context: dict[str, Any], expected: tuple[str | None, str | None]
) -> None:
    assert learner_key(event(context)) == expected


def test_an_event_of_no_learner_is_refused_with_the_reason() -> None:
    nobody = event({"user_id": None, "username": None})
    for kind in Policy:
        with pytest.raises(UnknownLearner, match="no learner"):
            policy(kind).xapi_actor(nobody)
        with pytest.raises(UnknownLearner, match="no learner"):
            policy(kind).caliper_actor_id(nobody)


# -- the imported table ---------------------------------------------------------------------------


def test_the_table_finds_a_learner_by_user_id_or_by_username() -> None:
    imported = table()
    assert imported.anonymous_id("xapi", Learner("7", None)) == IMPORTED_XAPI
    assert imported.anonymous_id("xapi", Learner(None, "ann")) == IMPORTED_XAPI
    assert imported.anonymous_id("caliper", Learner("7", "someone-else")) == IMPORTED_CALIPER
    assert imported.anonymous_id("xapi", Learner("8", "bob")) is None
    assert imported.email(Learner(None, "ann")) == EMAIL
    assert imported.email(Learner("7", None)) == EMAIL
    assert imported.email(Learner("8", None)) is None


def test_a_csv_table_reads_kinds_in_any_case_and_optional_emails(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text(
        "user_id,username,kind,anonymous_id,email\n"
        f"7,ann,XAPI,{IMPORTED_XAPI},{EMAIL}\n"
        f"7,ann,Caliper,{IMPORTED_CALIPER},\n"
        "8,,xapi,b0b,\n"
    )
    imported = IdentityTable.from_csv(path)
    assert imported.anonymous_id("xapi", Learner("7", None)) == IMPORTED_XAPI
    assert imported.anonymous_id("caliper", Learner(None, "ann")) == IMPORTED_CALIPER
    assert imported.anonymous_id("xapi", Learner("8", None)) == "b0b"
    assert imported.email(Learner("7", None)) == EMAIL
    assert imported.email(Learner("8", None)) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("user_id,username,anonymous_id\n7,ann,x\n", "missing column"),
        ("user_id,username,kind,anonymous_id\n7,ann,edx,x\n", ":2: kind must be xapi or caliper"),
        ("user_id,username,kind,anonymous_id\n7,ann,xapi,x\n8,bob,xapi, \n", ":3: anonymous_id"),
    ],
)
def test_a_bad_csv_table_is_refused_naming_the_line(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "ids.csv"
    path.write_text(text)
    with pytest.raises(IdentityError, match=message):
        IdentityTable.from_csv(path)


def test_an_unreadable_csv_table_is_an_identity_error(tmp_path: Path) -> None:
    with pytest.raises(IdentityError, match=r"ids\.csv"):
        IdentityTable.from_csv(tmp_path / "ids.csv")


# -- anonymous ids --------------------------------------------------------------------------------


def test_an_imported_id_wins_over_a_derived_one() -> None:
    assert policy(Policy.ANONYMOUS, table()).anonymous_id("xapi", Learner("7", "ann")) == (
        IMPORTED_XAPI
    )


def test_derived_ids_are_stable_uuids_keyed_on_the_secret_kind_and_realm() -> None:
    learner = Learner("7", "ann")
    derived = policy(Policy.ANONYMOUS).anonymous_id("xapi", learner)
    assert uuid.UUID(derived).version == 4
    assert policy(Policy.ANONYMOUS).anonymous_id("xapi", learner) == derived  # stable
    others = {
        IdentityPolicy("another-secret", LMS).anonymous_id("xapi", learner),
        policy(Policy.ANONYMOUS).anonymous_id("caliper", learner),
        policy(Policy.ANONYMOUS).anonymous_id(EDX_KIND, learner),
        policy(Policy.ANONYMOUS, realm="site-b").anonymous_id("xapi", learner),
        policy(Policy.ANONYMOUS).anonymous_id("xapi", Learner("8", "ann")),
    }
    assert derived not in others and len(others) == 5


def test_the_user_id_names_the_learner_before_the_username() -> None:
    """A renamed learner (same user id) keeps their id; the username counts only without one."""
    anonymous = policy(Policy.ANONYMOUS)
    assert anonymous.anonymous_id("xapi", Learner("7", "ann")) == anonymous.anonymous_id(
        "xapi", Learner("7", "ann-renamed")
    )
    assert anonymous.anonymous_id("xapi", Learner(None, "ann")) != anonymous.anonymous_id(
        "xapi", Learner("7", "ann")
    )


# -- each policy in xAPI and Caliper ----------------------------------------------------------


def test_anonymous_is_an_account_named_by_the_anonymous_id() -> None:
    for imported, expected in ((table(), IMPORTED_XAPI), (None, None)):
        anonymous = policy(Policy.ANONYMOUS, imported)
        actor = anonymous.xapi_actor(event())
        name = expected or anonymous.anonymous_id(Kind.XAPI, Learner("7", "ann"))
        assert actor.value == {"objectType": "Agent", "account": {"name": name, "homePage": LMS}}
        assert "ann" not in actor.id_text and '"7"' not in actor.id_text


def test_the_actor_text_is_the_json_erb_hashes_into_statement_ids() -> None:
    actor = policy(Policy.ANONYMOUS, table()).xapi_actor(event())
    assert actor.id_text == (
        '{"objectType": "Agent", "account": {"name": "' + IMPORTED_XAPI + '", '
        '"homePage": "http://lms.test"}}'
    )
    assert json.loads(actor.id_text) == actor.value


def test_username_shows_the_username_and_refuses_an_event_without_one() -> None:
    by_name = policy(Policy.USERNAME, table())
    assert by_name.xapi_actor(event()).value["account"] == {"name": "ann", "homePage": LMS}
    assert by_name.caliper_actor_id(event()) == f"{LMS}/user/ann"
    without = event({"username": None})
    with pytest.raises(UnknownLearner, match="no username"):
        by_name.xapi_actor(without)
    # Caliper has no username to show: the learner's anonymous Caliper id instead
    assert by_name.caliper_actor_id(without) == f"{LMS}/user/{IMPORTED_CALIPER}"


def test_mbox_shows_the_imported_email_as_a_mailto_iri() -> None:
    actor = policy(Policy.MBOX, table()).xapi_actor(event())
    assert actor.value == {"objectType": "Agent", "mbox": f"mailto:{EMAIL}"}
    assert json.loads(actor.id_text) == actor.value


def test_mbox_sha1sum_is_the_sha1_of_the_mailto_iri_with_its_domain_in_lower_case() -> None:
    actor = policy(Policy.MBOX_SHA1SUM, table()).xapi_actor(event())
    expected = hashlib.sha1(b"mailto:Ann.Lee@example.org").hexdigest()
    assert actor.value == {"objectType": "Agent", "mbox_sha1sum": expected}
    assert len(actor.value["mbox_sha1sum"]) == 40
    assert "Ann" not in actor.id_text and "example" not in actor.id_text.lower()
    # the local part is kept as written: another case is another mailbox
    other = IdentityTable()
    other.add("xapi", IMPORTED_XAPI, "7", "ann", "ann.lee@example.org")
    assert policy(Policy.MBOX_SHA1SUM, other).xapi_actor(event()).value["mbox_sha1sum"] != expected


@pytest.mark.parametrize("kind", [Policy.MBOX, Policy.MBOX_SHA1SUM])
def test_email_policies_refuse_a_learner_without_a_known_email(kind: Policy) -> None:
    no_email = IdentityTable()
    no_email.add("xapi", IMPORTED_XAPI, "7", "ann")
    with pytest.raises(UnknownLearner, match="no email"):
        policy(kind, no_email).xapi_actor(event())
    with pytest.raises(UnknownLearner, match="no email"):
        policy(kind).xapi_actor(event())


@pytest.mark.parametrize("kind", [Policy.MBOX, Policy.MBOX_SHA1SUM, Policy.RAW, Policy.ANONYMOUS])
def test_policies_but_username_show_caliper_the_anonymous_caliper_id(kind: Policy) -> None:
    assert policy(kind, table()).caliper_actor_id(event()) == f"{LMS}/user/{IMPORTED_CALIPER}"
    derived = policy(kind).caliper_actor_id(event())
    assert derived.startswith(f"{LMS}/user/") and derived.rsplit("/", 1)[1] not in ("7", "ann")


def test_raw_never_puts_the_user_id_in_an_xapi_actor() -> None:
    """`raw` is for the edx protocol; asked of xAPI, the actor stays anonymous."""
    raw, anonymous = policy(Policy.RAW), policy(Policy.ANONYMOUS)
    assert raw.xapi_actor(event()).value == anonymous.xapi_actor(event()).value


def test_actors_follow_the_learner_not_the_first_event_cached() -> None:
    anonymous = policy(Policy.ANONYMOUS, table())
    first = anonymous.xapi_actor(event())
    other = anonymous.xapi_actor(event({"user_id": 8, "username": "bob"}))
    assert first.value["account"]["name"] == IMPORTED_XAPI
    assert other.value["account"]["name"] not in (IMPORTED_XAPI, "bob", "8")
    assert anonymous.xapi_actor(event()) == first


# -- sites ----------------------------------------------------------------------------------------


def test_a_site_sharing_the_users_keeps_their_ids_under_its_own_lms() -> None:
    site = policy(Policy.ANONYMOUS, table()).for_site("http://site-b.test", "")
    assert site.xapi_actor(event()).value["account"] == {
        "name": IMPORTED_XAPI,
        "homePage": "http://site-b.test",
    }


def test_a_site_with_users_of_its_own_does_not_use_the_default_lms_table() -> None:
    default = policy(Policy.ANONYMOUS, table())
    site = default.for_site("http://site-b.test", "site-b")
    name = site.xapi_actor(event()).value["account"]["name"]
    assert name != IMPORTED_XAPI
    assert name != policy(Policy.ANONYMOUS).xapi_actor(event()).value["account"]["name"]
    assert site.policy is Policy.ANONYMOUS and site.realm == "site-b"


# -- the edx protocol -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [Policy.ANONYMOUS, Policy.MBOX, Policy.MBOX_SHA1SUM])
def test_edx_events_carry_the_edx_pseudonym_and_no_request_fields(kind: Policy) -> None:
    raw = event({"ip": "203.0.113.9", "agent": "Mozilla/5.0"})
    out = policy(kind, table()).edx_event(raw)
    pseudonym = policy(Policy.ANONYMOUS).anonymous_id(EDX_KIND, Learner("7", "ann"))
    assert out["context"]["user_id"] == out["context"]["username"] == pseudonym
    assert pseudonym not in (IMPORTED_XAPI, IMPORTED_CALIPER)  # never an imported id
    assert "ip" not in out["context"] and "agent" not in out["context"]
    text = json.dumps(out)
    assert EMAIL not in text and '"ann"' not in text and "203.0.113.9" not in text


def test_edx_raw_keeps_ids_and_request_fields() -> None:
    raw = event({"ip": "203.0.113.9", "agent": "Mozilla/5.0"})
    out = policy(Policy.RAW, table()).edx_event(raw)
    assert out == raw.as_dict()
    assert out["context"]["user_id"] == 7 and out["context"]["ip"] == "203.0.113.9"
