"""`event-router identities import`, `courses import`, and `transform` reading them back."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Invoke
from tests.conftest import ERB

ANONYMOUS_ID = "0b5e3f2a-1111-4222-8333-444455556666"


def test_import_identities_and_courses(cli: Invoke, tmp_path: Path) -> None:
    ids = tmp_path / "ids.csv"
    ids.write_text(f"user_id,username,kind,anonymous_id\n3,edx,xapi,{ANONYMOUS_ID}\n")
    result = cli("identities", "import", str(ids))
    assert result.exit_code == 0 and "1 identities stored" in result.stdout
    courses = tmp_path / "courses.csv"
    courses.write_text("course_id,display_name\ncourse-v1:edX+DemoX+Demo_Course,Demo\n")
    result = cli("courses", "import", str(courses))
    assert result.exit_code == 0 and "1 courses stored" in result.stdout


def test_bad_csv_is_a_clear_error(cli: Invoke, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,username,kind,anonymous_id\n3,edx,lti,x\n")
    result = cli("identities", "import", str(bad))
    assert result.exit_code == 2 and f"{bad}:2: kind must be xapi or caliper" in result.stderr
    result = cli("courses", "import", str(tmp_path / "absent.csv"))
    assert result.exit_code == 2 and "cannot read" in result.stderr


def _actor_name(cli: Invoke, *options: str) -> tuple[str, str]:
    event = str(ERB / "events" / "edx.course.enrollment.activated.json")
    result = cli("transform", event, "-q", *options)
    assert result.exit_code == 0, result.output
    statement = json.loads(result.stdout.splitlines()[0])
    return statement["actor"]["account"]["name"], json.dumps(statement["object"])


def test_transform_uses_the_home_store_unless_files_are_given(cli: Invoke, tmp_path: Path) -> None:
    derived, _ = _actor_name(cli)  # before any import: keyed on the home's secret
    assert derived != ANONYMOUS_ID
    ids = tmp_path / "ids.csv"
    ids.write_text(f"user_id,username,kind,anonymous_id\n3,edx,xapi,{ANONYMOUS_ID}\n")
    courses = tmp_path / "courses.csv"
    courses.write_text("course_id,display_name\ncourse-v1:edX+DemoX+Demo_Course,Demo Store\n")
    assert cli("identities", "import", str(ids)).exit_code == 0
    assert cli("courses", "import", str(courses)).exit_code == 0
    name, obj = _actor_name(cli)
    assert name == ANONYMOUS_ID and "Demo Store" in obj
    other = tmp_path / "other.csv"
    other.write_text("user_id,username,kind,anonymous_id\n3,edx,xapi,from-file\n")
    name, obj = _actor_name(cli, "--identities", str(other))
    assert name == "from-file" and "Demo Store" in obj  # courses still from the store
