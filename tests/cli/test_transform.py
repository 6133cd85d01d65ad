"""`event-router transform` as a user runs it: a real process, real files, stdout and stderr."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ERB, ERB_ANONYMOUS_ID
from tests.validation import assert_valid_caliper_envelope, assert_valid_xapi

EVENT = json.loads((ERB / "events" / "play_video.json").read_text())
EXPECTED = json.loads((ERB / "expected-xapi" / "play_video.json").read_text())


def run(home: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "event_router", "transform", "--home", str(home), *args],
        input=stdin,
        capture_output=True,
        timeout=120,
    )


def statements(result: subprocess.CompletedProcess[bytes]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture
def identities(tmp_path: Path) -> Path:
    path = tmp_path / "ids.csv"
    path.write_text(
        "user_id,username,kind,anonymous_id\n"
        f"3,edx,xapi,{ERB_ANONYMOUS_ID}\n3,edx,caliper,{ERB_ANONYMOUS_ID}\n"
    )
    return path


def test_every_input_layout_gives_the_same_statement(tmp_path: Path, identities: Path) -> None:
    single = tmp_path / "one.json"
    single.write_text(json.dumps(EVENT, indent=2))
    array = tmp_path / "many.json"
    array.write_text(json.dumps([EVENT, EVENT]))
    lines = tmp_path / "events.jsonl"
    lines.write_text(json.dumps(EVENT) + "\n\n" + json.dumps(EVENT) + "\n")
    log = tmp_path / "tracking.log.gz"
    log.write_bytes(
        gzip.compress(
            b"2020-07-15 06:52:55,057 INFO tracking - " + json.dumps(EVENT).encode() + b"\n"
        )
    )
    result = run(
        tmp_path / "home",
        "--identities",
        str(identities),
        str(single),
        str(array),
        str(lines),
        str(log),
    )
    assert result.returncode == 0, result.stderr
    out = statements(result)
    assert len(out) == 6
    assert all(s == out[0] for s in out)
    assert out[0]["id"] == EXPECTED["id"]  # ERB's statement id, from the imported anonymous id
    assert_valid_xapi(out[0])
    assert b"6 events read, 6 translated, 6 statements written, 0 skipped" in result.stderr


def test_stdin_and_per_event_errors(tmp_path: Path) -> None:
    body = (
        json.dumps(EVENT) + "\nnot json at all\n"
        + json.dumps({"name": "edx.unknown", "time": "2020-01-01T00:00:00Z"}) + "\n"
        + json.dumps({**EVENT, "context": {"course_id": "course-v1:a+b+c"}}) + "\n"
    )  # fmt: skip
    result = run(tmp_path / "home", stdin=body.encode())
    assert result.returncode == 0
    assert len(statements(result)) == 1
    errors = result.stderr.decode().splitlines()
    assert errors[0].startswith("<stdin>:2 no JSON object")
    assert errors[1] == "<stdin>:3 edx.unknown: no xapi translation for this event"
    assert errors[2].startswith("<stdin>:4 play_video: event names no learner")
    assert "4 events read, 1 translated, 1 statements written, 3 skipped" in errors[3]


def test_missing_input_is_exit_2_after_the_rest(tmp_path: Path) -> None:
    good = tmp_path / "e.json"
    good.write_text(json.dumps(EVENT))
    result = run(tmp_path / "home", str(tmp_path / "nope.log"), str(good))
    assert result.returncode == 2
    assert len(statements(result)) == 1
    assert b"nope.log: cannot read: No such file or directory" in result.stderr


def test_caliper_envelopes_are_valid(tmp_path: Path) -> None:
    source = tmp_path / "e.json"
    source.write_text(json.dumps(EVENT))
    result = run(
        tmp_path / "home",
        "--to",
        "caliper",
        "--envelope",
        "--sensor-id",
        "http://lms/s",
        str(source),
    )
    (envelope,) = statements(result)
    assert envelope["sensor"] == "http://lms/s"
    assert envelope["data"][0]["action"] == "Resumed"
    assert_valid_caliper_envelope(envelope)
    again = statements(run(tmp_path / "home", "--to", "caliper", str(source)))
    assert again[0]["id"] == envelope["data"][0]["id"]  # deterministic Caliper ids


def test_workers_do_not_change_output_or_order(tmp_path: Path) -> None:
    source = tmp_path / "many.jsonl"
    events = []
    for i in range(5000):
        event = json.loads(json.dumps(EVENT))
        event["timestamp"] = f"2020-07-15T06:{i // 60 % 60:02d}:{i % 60:02d}.{i:06d}+00:00"
        event["context"]["user_id"] = i % 17 + 1
        events.append(json.dumps(event))
    source.write_text("\n".join(events) + "\n")
    one = run(tmp_path / "home", "--workers", "1", str(source))
    three = run(tmp_path / "home", "--workers", "3", str(source))
    assert one.returncode == three.returncode == 0
    assert one.stdout == three.stdout
    assert len(one.stdout.splitlines()) == 5000


def test_same_home_same_bytes_other_home_other_learner_ids(tmp_path: Path) -> None:
    source = tmp_path / "e.json"
    source.write_text(json.dumps(EVENT))
    first = run(tmp_path / "home", str(source)).stdout
    assert run(tmp_path / "home", str(source)).stdout == first
    other = statements(run(tmp_path / "other", str(source)))[0]
    assert other["actor"] != statements(subprocess.CompletedProcess([], 0, first, b""))[0]["actor"]
    name = other["actor"]["account"]["name"]
    assert str(uuid.UUID(name)) == name  # an anonymous UUID, never the raw user id


def test_bad_options_are_clear(tmp_path: Path) -> None:
    assert b"must be xapi or caliper" in run(tmp_path / "h", "--to", "json").stderr
    envelope = run(tmp_path / "h", "--envelope")
    assert envelope.returncode == 2 and b"--envelope applies to --to caliper" in envelope.stderr
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("a,b\n1,2\n")
    result = run(tmp_path / "h", "--courses", str(bad_csv))
    assert result.returncode == 2 and b"missing column" in result.stderr


def test_gzip_inputs_are_read_member_after_member_and_damage_is_named(tmp_path: Path) -> None:
    """Every member of a multi-member .gz is read (as `gzip -d`); a torn member or trailing
    garbage is exit 2 naming the file and the damage, after the lines before it. Before the fix
    a torn member was a bare "Aborted!" (an EOFError) with nothing written."""
    line = b"2020-07-15 06:52:55,057 INFO tracking - " + json.dumps(EVENT).encode() + b"\n"
    joined = tmp_path / "joined.log.gz"
    joined.write_bytes(gzip.compress(line * 2) + gzip.compress(line * 3))
    torn = tmp_path / "torn.log.gz"
    torn.write_bytes(gzip.compress(line) + gzip.compress(line * 50)[:-30])
    garbage = tmp_path / "garbage.log.gz"
    garbage.write_bytes(gzip.compress(line) + b"GARBAGE")
    whole = run(tmp_path / "home", str(joined))
    assert whole.returncode == 0, whole.stderr
    assert len(statements(whole)) == 5
    for path, damage in ((torn, b"truncated gzip data"), (garbage, b"trailing garbage")):
        result = run(tmp_path / "home", str(path))
        assert result.returncode == 2, result.stderr
        assert path.name.encode() + b": cannot read: " + damage in result.stderr
        written = len(statements(result))  # the whole lines before the damage
        assert written == 1 if path == garbage else 1 < written < 51, result.stderr


def test_forgotten_learners_are_left_out_as_the_router_would(tmp_path: Path) -> None:
    """`transform` gives what the running router would: a forgotten learner's events are
    skipped (the home's retired list), other learners' are translated."""
    home = tmp_path / "home"
    env = {**os.environ, "EVENT_ROUTER_HOME": str(home)}
    forget = [sys.executable, "-m", "event_router", "learners", "forget", "--username", "edx"]
    subprocess.run(forget, env=env, check=True, capture_output=True, timeout=60)
    other = {**EVENT, "context": {**EVENT["context"], "user_id": 4, "username": "someone"}}
    result = run(home, stdin=(json.dumps(EVENT) + "\n" + json.dumps(other) + "\n").encode())
    assert result.returncode == 0
    assert len(statements(result)) == 1
    assert "1  learner forgotten (retired list)" in result.stderr.decode()


def test_the_readme_quick_start_transform_works_on_the_shipped_sample(tmp_path: Path) -> None:
    """The README's first command, run as written from a fresh clone (the repository root):
    it reads a file the repository ships, never one from outside it."""
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    (command,) = [line for line in quick_start.splitlines() if " transform " in line]
    args = command.split("#", 1)[0].split()
    assert args[0] == ".venv/bin/event-router" and args[1] == "transform"
    assert (root / args[-1]).resolve().is_relative_to(root), f"{args[-1]} is outside the clone"
    done = subprocess.run(
        [sys.executable, "-m", "event_router", *args[1:], "--home", str(tmp_path / "home")],
        cwd=root, capture_output=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = statements(done)
    assert len(out) == 50
    assert b"48 events read, 48 translated, 50 statements written, 0 skipped" in done.stderr
    for statement in out:
        assert_valid_xapi(statement)
    verbs = {str(s["verb"]["id"]).rsplit("/", 1)[-1] for s in out}
    assert {"registered", "played", "evaluated", "completed"} <= verbs  # several families


def test_families_beyond_erb_are_transformed(tmp_path: Path) -> None:
    """Every Ralph-model sample, as tracking-log lines, through the real command: one valid
    statement per event except the incomplete video events refused on purpose."""
    from tests.translate.fixtures.families.samples import SAMPLES

    source = tmp_path / "tracking.log"
    source.write_text("".join(json.dumps(event) + "\n" for event in SAMPLES.values()))
    result = run(tmp_path / "home", "--to", "xapi", str(source))
    assert result.returncode == 0, result.stderr
    out = statements(result)
    for statement in out:
        assert_valid_xapi(statement)
    verbs = {statement["verb"]["id"] for statement in out}
    assert "http://activitystrea.ms/schema/1.0/submit" in verbs  # ORA submission
    assert "http://activitystrea.ms/schema/1.0/join" in verbs  # team joined
    # Ralph's play/pause/stop/seek models have no `duration`: refused (docs/compatibility.md).
    assert len(out) == len(SAMPLES) - 4
    assert "no video duration" in result.stderr.decode()
