"""`event-router audit`: what the CLI changed is logged as done from the shell."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

from tests.cli.conftest import Invoke


def test_cli_changes_are_logged_and_listed(cli: Invoke) -> None:
    assert cli("users", "add", "zoe", "--password-stdin", input="zoe-password\n").exit_code == 0
    assert cli("users", "set-role", "zoe", "admin").exit_code == 0
    created = cli("tokens", "create", "--user", "zoe", "--name", "ci")
    assert created.exit_code == 0
    token = created.output.strip().splitlines()[-1]
    result = cli("audit", "--json")
    assert result.exit_code == 0, result.output
    entries = json.loads(result.output)["entries"]
    assert [e["action"] for e in entries] == ["token.create", "user.role", "user.add"]
    assert {e["via"] for e in entries} == {"cli"}
    assert entries[0]["actor"] == f"{getpass.getuser()} (shell)"
    assert "zoe-password" not in result.output and token not in result.output
    table = cli("audit", "--action", "user.")
    assert "user.role" in table.output and "token.create" not in table.output


def test_table_imports_are_logged_with_row_counts(cli: Invoke, tmp_path: Path) -> None:
    ids = tmp_path / "ids.csv"
    ids.write_text("user_id,username,kind,anonymous_id\n3,edx,xapi,a1\n4,ann,xapi,a2\n")
    courses = tmp_path / "courses.csv"
    courses.write_text("course_id,display_name\ncourse-v1:edX+DemoX+Demo_Course,Demo\n")
    assert cli("identities", "import", str(ids)).exit_code == 0
    assert cli("courses", "import", str(courses)).exit_code == 0
    entries = json.loads(cli("audit", "--json").output)["entries"]
    assert [(e["action"], e["detail"]) for e in entries] == [
        ("courses.import", {"rows": 1}),
        ("identities.import", {"rows": 2}),
    ]
