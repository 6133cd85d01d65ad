"""Route events through event-routing-backends (ERB) end to end, in its synchronous mode.

This is what ERB's event-bus consumer does with each tracking event: `SyncEventsRouter.send()`
with the xAPI processor, which transforms the event, finds the enabled router configurations,
and sends each statement to the LRS at once, in the calling thread (`send_event` through its
`LrsClient`, i.e. tincan's `RemoteLRS.save_statement`: one PUT per statement, a new connection
each time). Batching (`EVENT_ROUTING_BACKEND_BATCHING_ENABLED`) is off, as by default.

Django and the LMS lookups are set up as in erb_transform.py (every learner is one anonymous id,
every course "Demonstration Course"); the router configuration is one enabled xAPI router to
`--url`. Run with the ERB venv's python (bench/erb/setup.sh):

    bench/.erb-venv/bin/python bench/erb/erb_route.py --url http://127.0.0.1:PORT/xapi/ EVENTS.jsonl

Prints on stderr `bench {"events": ..., "statements": ..., "seconds": ..., ...}`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from erb_transform import (  # the ERB venv runs this file directly: its folder is the path
    ANONYMOUS_ID,
    LMS_URL,
    configure_django,
    install_lms_stubs,
    parse_inputs,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="*", help="event files (default: stdin)")
    parser.add_argument("--url", required=True, help="the LRS endpoint (statements resource)")
    parser.add_argument("--lms-url", default=LMS_URL)
    args = parser.parse_args()

    install_lms_stubs(ANONYMOUS_ID, None)
    configure_django(args.lms_url, "external_id", ("celery_utils",))
    from django.conf import settings
    from django.core.management import call_command

    # ERB's own defaults (event_routing_backends.settings.common), which the LMS would apply.
    from event_routing_backends.settings import common

    common.plugin_settings(settings)
    settings.XAPI_EVENT_LOGGING_ENABLED = False
    logging.getLogger().setLevel(logging.CRITICAL)
    call_command("migrate", "event_routing_backends", verbosity=0)

    from event_routing_backends.backends.sync_events_router import SyncEventsRouter
    from event_routing_backends.models import RouterConfiguration
    from event_routing_backends.processors.xapi.transformer_processor import XApiProcessor

    # The LMS names the backend "xapi" and the router configuration says "xAPI": MySQL's
    # case-insensitive collation matches them there; SQLite would not, so both say "xAPI" here.
    backend = RouterConfiguration.XAPI_BACKEND
    RouterConfiguration.objects.create(
        backend_name=backend,
        route_url=args.url,
        enabled=True,
        auth_scheme=None,
        configurations=None,
    )
    router = SyncEventsRouter(processors=[XApiProcessor()], backend_name=backend)
    events = [e for e in parse_inputs(args.inputs) if isinstance(e, dict)]
    errors: Counter[str] = Counter()
    started, cpu = time.perf_counter(), time.process_time()
    for event in events:
        try:
            router.send(event)
        except Exception as exc:  # ERB raises when a statement is refused; the run goes on
            errors[f"{event.get('name')}: {type(exc).__name__}"] += 1
    seconds = time.perf_counter() - started
    stats = {
        "events": len(events),
        "failed": sum(errors.values()),
        "errors": dict(errors.most_common(10)),
        "seconds": round(seconds, 3),
        "cpu_seconds": round(time.process_time() - cpu, 3),
        "events_per_second": round(len(events) / seconds, 1),
    }
    sys.stderr.write("bench " + json.dumps(stats) + "\n")


if __name__ == "__main__":
    main()
