"""Run event-routing-backends' (ERB) real transformers outside the LMS, as an oracle and a peer.

ERB is a Django plugin of the Open edX LMS. This script configures just enough Django in-process,
stands in for the few LMS lookups ERB makes (the same way ERB's own test suite does: every learner's
anonymous id is one fixed uuid, every course is "Demonstration Course"), then feeds events through
ERB's own processors (`XApiProcessor` / `CaliperProcessor`, i.e. the transformer registries plus
the serialisation ERB applies before sending). It prints one JSON line per output statement/event
on stdout, and on stderr one line per event ERB failed on or produced nothing for
(`index name: error`; index counts input events from 0).

Input (files or stdin): a JSON array, a single JSON object, or lines that are either JSON objects
or raw tracking-log lines (prefix, then JSON). JSON objects go to ERB as they are (as in its async
path and its tests); tracking-log lines are normalised with ERB's own `parse_json_event`, as its
`transform_tracking_logs` command does (`event` -> `data`, `time` -> `timestamp`). With
`--tracking-log`, every input is normalised that way, objects included.

Run it with the ERB venv's python (see setup.sh):
    bench/.erb-venv/bin/python bench/erb/erb_transform.py --to xapi EVENTS.jsonl > out.jsonl
    ... --bench   # also print count, seconds and events/s of the transform loop on stderr
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import time
import types
from collections.abc import Iterable, Iterator
from typing import Any

ANONYMOUS_ID = "32e08e30-f8ae-4ce2-94a8-c2bfe38a70cb"
COURSE_NAME = "Demonstration Course"
LMS_URL = "http://localhost:18000"

Event = dict[str, Any]


def install_lms_stubs(anonymous_id: str, course_names: dict[str, str] | None) -> None:
    """Register stand-ins for the edx-platform modules ERB imports (cf. ERB's test_utils).

    Without `course_names` every course is "Demonstration Course"; with it, an unlisted course is
    unknown to the LMS, which ERB turns into an error, as in production.
    """

    class ExternalIdType:
        XAPI = "xapi"
        CALIPER = "caliper"
        LTI = "lti"

    class ExternalId:
        @staticmethod
        def add_new_user_id(user: Any, type_name: str) -> tuple[Any, bool]:
            return types.SimpleNamespace(external_user_id=anonymous_id), True

    def get_course_overviews(course_keys: list[Any]) -> list[dict[str, str]]:
        if course_names is None:
            return [{"display_name": COURSE_NAME} for _ in course_keys]
        names = (course_names.get(str(key)) for key in course_keys)
        return [{"display_name": name} for name in names if name is not None]

    def get_potentially_retired_user_by_username(username: str) -> Any:
        # ERB's tests answer every unknown username with a (retired) user; so do we.
        return types.SimpleNamespace(username=username, email=f"{username}@example.com")

    stubs: dict[str, dict[str, Any]] = {
        "openedx.core.djangoapps.external_user_ids.models": {
            "ExternalId": ExternalId,
            "ExternalIdType": ExternalIdType,
        },
        "openedx.core.djangoapps.content.course_overviews.api": {
            "get_course_overviews": get_course_overviews,
        },
        "common.djangoapps.student.models": {
            "get_potentially_retired_user_by_username": get_potentially_retired_user_by_username,
        },
    }
    for name, attributes in stubs.items():
        module = types.ModuleType(name)
        module.__dict__.update(attributes)
        sys.modules[name] = module


def configure_django(lms_url: str, ifi_type: str, extra_apps: tuple[str, ...] = ()) -> None:
    """Minimal in-process Django with ERB installed and an in-memory user table (`extra_apps`:
    what routing needs besides, see erb_route.py)."""
    import django
    from django.conf import settings
    from django.core.management import call_command

    settings.configure(
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "event_routing_backends",
            *extra_apps,
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        SECRET_KEY="erb-bench-only",
        USE_TZ=True,
        LOGGING_CONFIG=None,
        LMS_ROOT_URL=lms_url,
        RUNNING_WITH_TEST_SETTINGS=True,  # transformer version "event-routing-backends@1.1.1"
        XAPI_AGENT_IFI_TYPE=ifi_type,
        XAPI_EVENTS_ENABLED=True,
        CALIPER_EVENTS_ENABLED=True,
        XAPI_EVENT_LOGGING_ENABLED=False,
        CALIPER_EVENT_LOGGING_ENABLED=False,
        EVENT_TRACKING_BACKENDS={},
    )
    # ERB logs every failure with a traceback; failures are reported on stderr by us instead.
    logging.getLogger().addHandler(logging.NullHandler())
    django.setup()
    # ERB looks users up in the LMS user table before asking for an anonymous id.
    call_command("migrate", "auth", verbosity=0)


def read_courses(path: str) -> dict[str, str]:
    """`course_id,display_name` CSV (the router's --courses format)."""
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["course_id"]: row["display_name"] for row in csv.DictReader(handle)}


def parse_inputs(paths: list[str], tracking_log: bool = False) -> Iterator[Event | str]:
    """Yield events; a string stands for an input ERB could not parse (reported, not fatal)."""
    from event_routing_backends.management.commands.helpers.event_log_parser import (
        parse_json_event,
    )

    def normalise(event: Any) -> Event | str:
        if not isinstance(event, dict):
            return f"not a JSON object: {event!r:.60}"
        if tracking_log:  # what `transform_tracking_logs` does to each line
            return parse_json_event(json.dumps(event)) or "unparsable tracking-log event"
        return event

    for path in paths or ["-"]:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        try:
            whole = json.loads(text)
        except ValueError:
            whole = None
        if whole is not None:
            yield from (
                normalise(event) for event in (whole if isinstance(whole, list) else [whole])
            )
            continue
        for line in text.splitlines():
            line = line.strip()
            if not line:
                continue
            if line.startswith("{"):
                try:
                    yield normalise(json.loads(line))
                except ValueError as exc:
                    yield f"invalid JSON: {exc}"
            else:
                yield parse_json_event(line) or f"unparsable tracking-log line: {line:.60}"


class Skipped(Exception):
    """ERB produced nothing for the event without an error of its own."""


def make_transform(to: str) -> Any:
    """ERB's processor for `to`, as a function event -> list of output dicts (may raise)."""
    from event_routing_backends.processors.caliper.transformer_processor import CaliperProcessor
    from event_routing_backends.processors.xapi.transformer_processor import XApiProcessor

    processor = XApiProcessor() if to == "xapi" else CaliperProcessor()
    registry = processor.registry

    def transform(event: Event) -> list[dict[str, Any]]:
        if event.get("name") not in registry.mapping:
            raise Skipped(f"ERB has no {to} transformer for this event")
        # xAPI: Statement.to_json() then json.loads, exactly what ERB hands to its LRS client.
        # Caliper: the event dict ERB puts into its envelope.
        out = processor.transform_event(event)
        if out is None:
            raise Skipped("a statement has no object id, so ERB drops the event")
        return out if isinstance(out, list) else [out]

    return transform


def run(events: Iterable[Event | str], to: str) -> dict[str, Any]:
    """Transform and print; return counts and the loop's wall and CPU seconds."""
    transform = make_transform(to)
    write, report = sys.stdout.write, sys.stderr.write
    stats = {"events": 0, "outputs": 0, "failed": 0, "skipped": 0}
    started, cpu_started = time.perf_counter(), time.process_time()
    for index, event in enumerate(events):
        stats["events"] += 1
        if isinstance(event, str):
            stats["failed"] += 1
            report(f"{index} <input>: {event}\n")
            continue
        try:
            results = transform(event)
        except Exception as exc:  # ERB's failure on this event is the answer we report
            stats["skipped" if isinstance(exc, Skipped) else "failed"] += 1
            report(f"{index} {event.get('name')}: {type(exc).__name__}: {exc}\n")
            continue
        for result in results:
            stats["outputs"] += 1
            write(json.dumps(result, ensure_ascii=False) + "\n")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return {
        **stats,
        "seconds": round(seconds, 4),
        "cpu_seconds": round(cpu, 4),
        "events_per_second": round(stats["events"] / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="*", help="event files (default: stdin)")
    parser.add_argument("--to", choices=("xapi", "caliper"), default="xapi")
    parser.add_argument("--lms-url", default=LMS_URL)
    parser.add_argument("--anonymous-id", default=ANONYMOUS_ID, help="every learner's id")
    parser.add_argument(
        "--courses", help=f"course_id,display_name CSV (default: all courses are {COURSE_NAME!r})"
    )
    parser.add_argument(
        "--ifi",
        choices=("external_id", "mbox", "mbox_sha1sum"),
        default="external_id",
        help="ERB's XAPI_AGENT_IFI_TYPE (emails are <username>@example.com)",
    )
    parser.add_argument(
        "--tracking-log",
        action="store_true",
        help="normalise every input as ERB's transform_tracking_logs does",
    )
    parser.add_argument(
        "--bench",
        action="store_true",
        help="parse all input first, then time the transform loop (stderr)",
    )
    args = parser.parse_args()

    install_lms_stubs(args.anonymous_id, read_courses(args.courses) if args.courses else None)
    configure_django(args.lms_url, args.ifi)
    events: Iterable[Event | str] = parse_inputs(args.inputs, args.tracking_log)
    if args.bench:
        events = list(events)
    stats = run(events, args.to)
    sys.stdout.flush()
    if args.bench:
        sys.stderr.write("bench " + json.dumps(stats) + "\n")


if __name__ == "__main__":
    main()
