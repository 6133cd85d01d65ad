"""Test tiers: every test outside the unit tier gets a marker here, so no test file names its tier.

A test is marked
- `faults` under tests/faults/, `browser` under tests/ui/ or when it uses the `browser` fixture;
- `peers` when it uses a peer of tests/peers/ (receiver, Ralph, Tansu, moto S3, Redis,
  PostgreSQL), directly or through another fixture, including the PostgreSQL case of
  `database_url`;
- `e2e` when it (or a helper or fixture of the test suite it calls) starts the router as a process:
  the `Router` peer or `python -m event_router`;
- `slow` when its module is marked `schemathesis` (a live server under generated requests) or it
  is listed in SLOW.

`pytest --fast` (what `scripts/test.sh --fast` runs) keeps the unmarked tests: the unit tier. In
that mode a guard fails any test that still starts the router, a peer module or a browser as a
subprocess, so a test the rules above miss shows up at once instead of slowing the tier down.
"""

from __future__ import annotations

import itertools
import subprocess
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

TIERS = ("e2e", "browser", "faults", "peers", "slow")
FAST = f"not ({' or '.join(TIERS)})"

TESTS = Path(__file__).resolve().parent
DIRECTORIES = {"faults": "faults", "ui": "browser"}
PEER_FIXTURES = frozenset(
    {
        "receiver",
        "receiver_server",
        "ralph",
        "tansu",
        "schema_registry",
        "schema_registry_server",
        "kafka_bus",
        "moto_s3",
        "s3_bucket",
        "bus_redis",
        "journal_redis",
        "control_plane",
        "postgres_database",
    }
)
MODULE_MARKERS = {"schemathesis": "slow"}
# Unit tests that take seconds each (property runs, Argon2 hashing, races over many files): they
# would make up a large share of the fast tier's time. Measured with `pytest --fast --durations=40`.
SLOW = frozenset(
    {
        "tests/journal/test_schema.py::test_first_since_equals_a_scan",
        "tests/store/test_migrations.py::test_many_concurrent_first_opens_of_new_sqlite_files",
        "tests/events/test_normalise.py::test_fuzzed_objects_normalise_or_fail_cleanly",
        "tests/translate/test_validity.py::test_damaged_events_give_valid_caliper_or_a_reason",
        "tests/translate/test_validity.py::test_damaged_events_give_valid_xapi_or_a_reason",
        "tests/sources/test_tracking_log_rotation.py::"
        "test_a_damaged_compressed_copy_is_reported_and_the_log_still_read",
        "tests/delivery/test_poison.py::"
        "test_a_stop_while_a_poison_item_is_retried_leaves_the_batch_unsettled",
        "tests/generate/test_generate.py::test_translations_are_valid_xapi_and_caliper",
        "tests/store/test_users.py::test_duplicates_unknowns_and_changes",
        "tests/store/test_users.py::test_authenticate",
        "tests/cli/test_users.py::test_users_add_list_set_password_set_role_remove",
        "tests/cli/test_users.py::test_users_errors_are_clear",
        "tests/cli/test_rewind.py::test_any_since_text_is_a_time_or_a_clear_refusal",
        "tests/translate/test_problem.py::test_problem_check_score_is_always_valid",
        "tests/translate/test_problem.py::test_problem_submitted_score_is_always_valid",
    }
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fast",
        action="store_true",
        help=f'unit tests only: -m "{FAST}"; fails a test that starts the router as a process',
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("fast"):
        given = config.option.markexpr
        config.option.markexpr = f"({given}) and {FAST}" if given else FAST
        _guard_subprocesses()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark before `-m` deselects (tryfirst: this runs ahead of the mark plugin)."""
    for item in items:
        for tier in tiers_of(item):
            item.add_marker(tier)


def tiers_of(item: pytest.Item) -> set[str]:
    tiers: set[str] = set()
    path = item.path.resolve()
    parts = path.relative_to(TESTS).parts if path.is_relative_to(TESTS) else ()
    if len(parts) > 1 and parts[0] in DIRECTORIES:
        tiers.add(DIRECTORIES[parts[0]])
    names = set(getattr(item, "fixturenames", ()))
    if "browser" in names:
        tiers.add("browser")
    callspec = getattr(item, "callspec", None)
    if names & PEER_FIXTURES or (
        callspec is not None and callspec.params.get("database_url") == "postgresql"
    ):
        tiers.add("peers")
    if item.nodeid.split("[")[0] in SLOW:
        tiers.add("slow")
    for marker, tier in MODULE_MARKERS.items():
        if item.get_closest_marker(marker) is not None:
            tiers.add(tier)
    if isinstance(item, pytest.Function):
        tiers |= _processes(item)
    return tiers


def _processes(item: pytest.Function) -> set[str]:
    """The tiers of the processes the test, or a function or fixture of tests/ it reaches, starts.

    A static walk over the code: the `Router` peer or `-m event_router` is `e2e`, `-m tests.peers.…`
    (a stand-in LMS, …) is `peers`. The --fast guard catches what a walk cannot see.
    """
    from tests.peers import router

    found: set[str] = set()
    seen: set[types.CodeType] = set()
    pending: list[tuple[types.CodeType, dict[str, Any]]] = []

    def add(function: Callable[..., Any]) -> None:
        code = getattr(function, "__code__", None)
        if code is not None and Path(code.co_filename).resolve().is_relative_to(TESTS):
            pending.append((code, function.__globals__))

    add(item.function)
    for definitions in item._fixtureinfo.name2fixturedefs.values():
        for definition in definitions:
            add(definition.func)
    while pending:
        code, namespace = pending.pop()
        if code in seen or Path(code.co_filename).resolve() == Path(router.__file__).resolve():
            continue
        seen.add(code)
        strings = _strings(code.co_consts)
        for constant in code.co_consts:
            if isinstance(constant, types.CodeType):
                pending.append((constant, namespace))
        for name in code.co_names:
            value = namespace.get(name)
            if value is router.Router or value is router.ROUTER or value is router:
                found.add("e2e")
            elif isinstance(value, types.FunctionType):
                add(value)
            elif isinstance(value, list | tuple):
                strings |= _strings(value)
        if "-m" in strings:
            if any(s == "event_router" or s.startswith("event_router.") for s in strings):
                found.add("e2e")
            if any(s.startswith("tests.peers.") for s in strings):
                found.add("peers")
    return found


def _strings(values: Any) -> set[str]:
    """The strings among `values`, and in the tuples and lists among them."""
    found: set[str] = set()
    for value in values:
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, list | tuple):
            found |= _strings(value)
    return found


def _guard_subprocesses() -> None:
    """Make `subprocess.Popen` (so `run` and asyncio's subprocesses) refuse what --fast excludes."""
    original = subprocess.Popen.__init__

    def guarded(self: subprocess.Popen[Any], args: Any, *rest: Any, **options: Any) -> None:
        reason = _excluded(args)
        if reason:
            pytest.fail(
                f"a test of the fast tier started {reason} ({args!r}); mark it (tests/tiers.py)",
                pytrace=False,
            )
        original(self, args, *rest, **options)

    subprocess.Popen.__init__ = guarded  # type: ignore[method-assign]


def _excluded(args: Any) -> str | None:
    if isinstance(args, str | bytes | Path):
        argv = str(args).split()
    else:
        argv = [str(a) for a in args] if isinstance(args, Sequence) else [str(args)]
    names = [Path(a).name for a in argv]
    if "event-router" in names or _module(argv, "event_router"):
        return "the router"
    if _module(argv, "tests.peers") or any(Path(a).parent == TESTS / "peers" for a in argv):
        return "a test peer"
    if any("chrom" in n or "playwright" in a for n, a in zip(names, argv, strict=True)):
        return "a browser"
    return None


def _module(argv: list[str], package: str) -> bool:
    return any(
        flag == "-m" and (name == package or name.startswith(f"{package}."))
        for flag, name in itertools.pairwise(argv)
    )
