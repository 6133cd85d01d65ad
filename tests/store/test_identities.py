"""Identity and course imports: upserts, all-or-nothing on a bad line, same tables as files."""

from __future__ import annotations

from pathlib import Path

import pytest

from event_router.routing.catalogue import CatalogueError
from event_router.routing.identity import IdentityError, IdentityTable, Kind, Learner
from event_router.store import Store

IDENTITIES = """user_id,username,kind,anonymous_id,email
3,edx,xapi,32e08e30-f8ae-4ce2-94a8-c2bfe38a70cb,edx@example.com
3,edx,caliper,6a2b1d4c-0000-4000-8000-000000000003,edx@example.com
,staff,xapi,9f1c0000-0000-4000-8000-00000000000a,
"""


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def test_import_identities_and_build_the_table(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "ids.csv", IDENTITIES)
    assert store.identities.import_csv(path) == 3
    assert store.identities.count() == 3
    table = store.identities.table()
    edx = Learner("3", "edx")
    assert table.anonymous_id(Kind.XAPI, edx) == "32e08e30-f8ae-4ce2-94a8-c2bfe38a70cb"
    assert table.anonymous_id(Kind.XAPI, Learner("3", None)) is not None
    assert table.anonymous_id(Kind.CALIPER, edx) == "6a2b1d4c-0000-4000-8000-000000000003"
    assert table.anonymous_id(Kind.XAPI, Learner(None, "staff")) is not None
    assert table.email(edx) == "edx@example.com"
    # The same file read directly gives the same answers (transform --identities).
    direct = IdentityTable.from_csv(path)
    assert direct.anonymous == table.anonymous and direct.emails == table.emails


def test_import_upserts_and_accepts_a_bom(store: Store, tmp_path: Path) -> None:
    store.identities.import_csv(write(tmp_path, "a.csv", IDENTITIES))
    newer = "user_id,username,kind,anonymous_id\n3,edx,XAPI,11111111-0000-4000-8000-000000000000\n"
    store.identities.import_csv(write(tmp_path, "b.csv", newer, encoding="utf-8-sig"))
    assert store.identities.count() == 3
    anonymous = store.identities.table().anonymous_id(Kind.XAPI, Learner("3", "edx"))
    assert anonymous == "11111111-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("user_id,username,anonymous_id\n3,edx,x\n", "missing column.*kind"),
        ("user_id,username,kind,anonymous_id\n3,edx,xapi,a\n4,b,lti,c\n", r":3: kind must be"),
        ("user_id,username,kind,anonymous_id\n3,edx,xapi,\n", r":2: anonymous_id is empty"),
        ("user_id,username,kind,anonymous_id\n,,xapi,a\n", r":2: user_id and username"),
        ("user_id,username,kind,anonymous_id\n3,edx,xapi,a,extra\n", r":2: more fields"),
    ],
)
def test_bad_identity_csv_is_a_clear_error_and_imports_nothing(
    store: Store, tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(IdentityError, match=message):
        store.identities.import_csv(write(tmp_path, "bad.csv", text))
    assert store.identities.count() == 0


def test_missing_or_binary_file(store: Store, tmp_path: Path) -> None:
    with pytest.raises(IdentityError, match="cannot read"):
        store.identities.import_csv(tmp_path / "absent.csv")
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"user_id,username,kind,anonymous_id\n\xff\xfe\n")
    with pytest.raises(IdentityError, match="not UTF-8"):
        store.identities.import_csv(binary)


def test_courses_import_and_catalogue(store: Store, tmp_path: Path) -> None:
    text = (
        "course_id,display_name\n"
        "course-v1:edX+DemoX+Demo_Course,Demonstration Course\n"
        'course-v1:a+b+c,"Names, with commas"\n'
    )
    assert store.courses.import_csv(write(tmp_path, "c.csv", text)) == 2
    renamed = "course_id,display_name\ncourse-v1:a+b+c,Renamed\n"
    store.courses.import_csv(write(tmp_path, "d.csv", renamed))
    catalogue = store.courses.catalogue()
    assert len(catalogue) == store.courses.count() == 2
    assert catalogue.name("course-v1:edX+DemoX+Demo_Course") == "Demonstration Course"
    assert catalogue.name("course-v1:a+b+c") == "Renamed"
    assert catalogue.name("course-v1:x+y+z") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("course,display_name\na,b\n", "missing column.*course_id"),
        ("course_id,display_name\na,A\n,B\n", r":3: course_id is empty"),
        ("course_id,display_name\na,\n", r":2: display_name is empty"),
    ],
)
def test_bad_course_csv_is_a_clear_error_and_imports_nothing(
    store: Store, tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(CatalogueError, match=message):
        store.courses.import_csv(write(tmp_path, "bad.csv", text))
    assert store.courses.count() == 0
