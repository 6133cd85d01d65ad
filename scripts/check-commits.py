#!/usr/bin/env python3
"""Check the messages of the commits made since the commit-message rule began.

Each non-merge commit needs a subject of at most 72 characters, a blank line, and a body that
says why. Commits before BASELINE predate the rule and are not judged. Usage:
    scripts/check-commits.py [REV-RANGE]     (default: BASELINE..HEAD)
"""

from __future__ import annotations

import subprocess
import sys

BASELINE = "d42b9c6"  # the last commit before the rule (CONTRIBUTING.md, "Commits")
MAX_SUBJECT = 72
# Commits that broke the rule before it was checked on every branch, kept rather than rewriting
# merged history: each named with what is wrong.
KNOWN = {
    "3a588f8598": "subject of 74 characters (merged from a helper branch)",
    "0c2b55fa62": "subject of 73 characters (merged from the plugins branch)",
}


def git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def problems(message: str) -> list[str]:
    """What is wrong with one commit message (empty when it follows the rule)."""
    lines = message.rstrip("\n").split("\n")
    found = []
    if len(lines[0]) > MAX_SUBJECT:
        found.append(f"subject is {len(lines[0])} characters (at most {MAX_SUBJECT})")
    if len(lines) < 3 or lines[1].strip() or not any(line.strip() for line in lines[2:]):
        found.append("needs a blank line after the subject, then a body saying why")
    return found


def main() -> int:
    if len(sys.argv) > 1:
        revs = sys.argv[1]
    elif subprocess.run(["git", "cat-file", "-e", BASELINE], capture_output=True).returncode:
        revs = "HEAD^!"  # a shallow clone without the baseline: judge the newest commit only
    else:
        revs = f"{BASELINE}..HEAD"
    bad = 0
    for sha in git("rev-list", "--no-merges", revs).split():
        if sha[:10] in KNOWN:
            continue
        for problem in problems(git("log", "-1", "--format=%B", sha)):
            subject = git("log", "-1", "--format=%s", sha).strip()
            print(f"{sha[:10]} {subject[:60]!r}: {problem}", file=sys.stderr)
            bad += 1
    if bad:
        print(f"error: {bad} commit message problem(s); see CONTRIBUTING.md", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
