"""Check that the ERB oracle (erb_transform.py) reproduces ERB's golden fixtures.

For every input in the fixtures' `events/` folder that has an expected xAPI or Caliper output, run
it through erb_transform's pipeline (same process, same code path) and compare with the expected
JSON: exactly for xAPI (ids are deterministic uuid5), and without the random `id` for Caliper.
Prints one line per fixture and the differing paths; exits 1 if anything differs.

    bench/.erb-venv/bin/python bench/erb/check_oracle.py [--fixtures DIR] [-v]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ERB_PYTHON = HERE.parent / ".erb-venv" / "bin" / "python"
FIXTURES = Path("/work/shared/fixtures/erb")


def diff(expected: Any, actual: Any, path: str = "$", strict: bool = True) -> list[str]:
    """Human-readable differences between two JSON values.

    Not `strict`: numbers compare by value (1 == 1.0), as ERB's own assertDictEqual does.
    """
    if isinstance(expected, dict) and isinstance(actual, dict):
        out: list[str] = []
        for key in sorted(expected.keys() | actual.keys()):
            if key not in actual:
                out.append(f"{path}.{key}: missing (expected {json.dumps(expected[key])})")
            elif key not in expected:
                out.append(f"{path}.{key}: unexpected {json.dumps(actual[key])}")
            else:
                out += diff(expected[key], actual[key], f"{path}.{key}", strict)
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        pairs = enumerate(zip(expected, actual, strict=True))
        return [d for i, (e, a) in pairs for d in diff(e, a, f"{path}[{i}]", strict)]
    if expected == actual and (type(expected) is type(actual) or not strict):
        return []
    return [f"{path}: expected {json.dumps(expected)}, got {json.dumps(actual)}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", type=Path, default=FIXTURES)
    parser.add_argument("-v", "--verbose", action="store_true", help="list matching fixtures too")
    args = parser.parse_args()

    try:
        import event_routing_backends  # noqa: F401
    except ImportError:
        if ERB_PYTHON.exists() and Path(sys.executable) != ERB_PYTHON:
            os.execv(ERB_PYTHON, [str(ERB_PYTHON), *sys.argv])
        sys.exit(f"ERB is not installed here: run bench/erb/setup.sh, then use {ERB_PYTHON}")

    sys.path.insert(0, str(HERE))
    import erb_transform as erb

    erb.install_lms_stubs(erb.ANONYMOUS_ID, None)
    erb.configure_django(erb.LMS_URL, "external_id")

    any_failed = False
    for to, folder in (("xapi", "expected-xapi"), ("caliper", "expected-caliper")):
        transform = erb.make_transform(to)
        matched: list[str] = []
        by_value: list[str] = []
        failed = 0
        for expected_file in sorted((args.fixtures / folder).glob("*.json")):
            expected = json.loads(expected_file.read_text(encoding="utf-8"))
            expected = expected if isinstance(expected, list) else [expected]
            [event] = erb.parse_inputs([str(args.fixtures / "events" / expected_file.name)])
            try:
                if isinstance(event, str):
                    raise ValueError(event)
                actual = json.loads(json.dumps(transform(event)))
            except Exception as exc:
                problems, numbers = [f"ERB failed: {type(exc).__name__}: {exc}"], []
            else:
                if to == "caliper":
                    for statement in (*expected, *actual):
                        statement.pop("id", None)
                problems = diff(expected, actual, strict=False)
                numbers = diff(expected, actual) if not problems else []
            if problems:
                failed += 1
                print(f"DIFF  {to:7} {expected_file.name}")
                print("".join(f"        {p}\n" for p in problems), end="")
            elif numbers:
                by_value.append(expected_file.name)
                print(
                    f"num   {to:7} {expected_file.name}: equal as numbers only, e.g. {numbers[0]}"
                )
            else:
                matched.append(expected_file.name)
                if args.verbose:
                    print(f"ok    {to:7} {expected_file.name}")
        total = len(matched) + len(by_value) + failed
        print(
            f"{to}: {len(matched)} of {total} fixtures reproduced exactly, {len(by_value)} equal"
            f" up to int/float (as ERB's own test compares), {failed} differ\n"
        )
        any_failed = any_failed or failed > 0
    return 1 if any_failed else 0


if __name__ == "__main__":
    sys.exit(main())
