"""Build a realistic, deterministic benchmark corpus of Open edX tracking events (JSON lines).

Every ERB input fixture (both layouts: event-tracking `data`/`timestamp` and tracking-log
`event`/`time`) is a template; each corpus event is a seeded random template with its learner
(user ids, usernames), course (course, block and URL ids, org), block hashes, session and timestamp
changed. Timestamps strictly increase, so every event is distinct. Also writes the matching
`course_id,display_name` CSV (the router's --courses format). Stdlib only: runs under any venv.

    python3 bench/corpus.py --count 100000 --out corpus.jsonl --courses-out courses.csv
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "erb" / "events"
START = datetime(2024, 3, 1, tzinfo=UTC)
USERS = 5000  # distinct learners; ERB caches only 128 anonymous ids (lru_cache)
ORGS = ("edX", "MITx", "HarvardX", "UQx", "DelftX")
RUNS = ("2024_T1", "2024_T2", "2025_T1")
COURSES = tuple(f"{org}+CS{n:03d}+{RUNS[n % 3]}" for n in range(40) for org in ORGS)  # 200
# `course-v1:Org+Course+Run` and `block-v1:Org+Course+Run+type@...`, also inside embedded JSON.
PART = r'[^+%"\\\s/?&#]+'  # one component of a course key
COURSE_KEY = re.compile(rf"((?:course|block)-v1:){PART}\+{PART}\+{PART}")
COURSE_KEY_QUOTED = re.compile(rf"((?:course|block)-v1%3A){PART}%2B{PART}%2B{PART}")  # in URLs
HEX32 = re.compile(r"(?:(?<=%40)|(?<![0-9a-fA-F]))[0-9a-f]{32}(?![0-9a-fA-F])")
USER_ID_KEYS = {"user_id", "attempt_user_id"}


def digest(*parts: object) -> str:
    return hashlib.md5(":".join(map(str, parts)).encode()).hexdigest()


def course_id(key: str) -> str:
    return f"course-v1:{key}"


def display_name(key: str) -> str:
    org, number, run = key.split("+")
    return f"{org} {number} ({run.replace('_', ' ')})"


def rekey_course(course: str, match: re.Match[str]) -> str:
    return match.group(1) + course


def rekey_block(salt: str, match: re.Match[str]) -> str:
    """Same block hash in the same course, wherever it appears (ids, URLs, problem inputs)."""
    return digest(salt, match.group(0))


def load_templates(folder: Path = FIXTURES) -> list[tuple[str, str]]:
    """(fixture name, compact JSON text) for every input fixture, sorted by name."""
    return [
        (path.stem, json.dumps(json.loads(path.read_text(encoding="utf-8"))))
        for path in sorted(folder.glob("*.json"))
    ]


def set_fields(node: Any, user_id: int, username: str, session: str, org: str) -> None:
    """Give every learner, session and org field of the event (recursively) its new value."""
    if isinstance(node, list):
        for item in node:
            set_fields(item, user_id, username, session, org)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if value in (None, ""):
            continue  # an absent learner (anonymous event) stays absent
        if key in USER_ID_KEYS:
            node[key] = user_id if isinstance(value, int) else str(user_id)
        elif key == "username":
            node[key] = username
        elif key == "session":
            node[key] = session
        elif key == "org_id":
            node[key] = org
        else:
            set_fields(value, user_id, username, session, org)


def events(
    count: int, seed: int = 0, folder: Path = FIXTURES, users: int = USERS
) -> Iterator[dict[str, Any]]:
    """`count` varied events, in increasing time order."""
    rng = random.Random(seed)
    templates = load_templates(folder)
    moment = START
    for index in range(count):
        _, text = rng.choice(templates)
        learner = rng.randrange(users)
        course = COURSES[rng.randrange(len(COURSES))]
        text = COURSE_KEY.sub(partial(rekey_course, course), text)
        text = COURSE_KEY_QUOTED.sub(partial(rekey_course, course.replace("+", "%2B")), text)
        text = HEX32.sub(partial(rekey_block, f"{seed}:{course}"), text)
        event = json.loads(text)
        session = digest(seed, learner, index // 2000)  # a learner's session lasts a while
        set_fields(event, 10_000 + learner, f"learner{learner:05d}", session, course.split("+")[0])
        moment += timedelta(microseconds=rng.randrange(1, 500_000))
        stamp = moment.isoformat(timespec="microseconds")
        for key in ("timestamp", "time"):
            if key in event:
                event[key] = stamp
        yield event


def write_courses(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["course_id", "display_name"])
        writer.writerows((course_id(key), display_name(key)) for key in COURSES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--users", type=int, default=USERS, help="distinct learners")
    parser.add_argument("--fixtures", type=Path, default=FIXTURES)
    parser.add_argument("--out", type=Path, help="JSON lines file (default: stdout)")
    parser.add_argument("--courses-out", type=Path, help="also write the courses CSV here")
    args = parser.parse_args()

    out = args.out.open("w", encoding="utf-8") if args.out else sys.stdout
    with out:
        for event in events(args.count, args.seed, args.fixtures, args.users):
            out.write(json.dumps(event, separators=(",", ":")) + "\n")
    if args.courses_out:
        write_courses(args.courses_out)


if __name__ == "__main__":
    main()
