"""Schemathesis against the real server: generated requests to every operation of the OpenAPI
document, as an admin (API token); no answer may be a server error or differ from the document
(status code, content type, headers, body schema), and an operation that declares security must
refuse a caller without it.

Before the fixes it found 500s (ids beyond 2^63 - 1 in paths, queries and bodies), answers the
document did not list (400 where it said 422, 401/403/404 nowhere), and no security scheme.
Marked `schemathesis` (runs in the normal suite; `-m schemathesis` runs it alone).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from tests.support.wait import wait_until
from tests.web.conftest import Template, Web, make_web

pytestmark = pytest.mark.schemathesis
MAX_EXAMPLES = 8  # per operation and mode: about 25 s for the whole API on a busy machine

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    ignored_auth,
]


@dataclass(frozen=True)
class Live:
    url: str
    web: Web


def _serve(web: Web) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        web.app, log_level="critical", lifespan="off", http="h11", ws="none", loop="asyncio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    # uvicorn offers no event to wait on: poll its flag (and fail at once if the thread died)
    wait_until(lambda: server.started or not thread.is_alive(), 20, "the server did not start")
    assert thread.is_alive(), "the server did not start"
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, template: Template) -> Iterator[Live]:
    home: Path = tmp_path_factory.mktemp("openapi")
    web = make_web(home, template, with_engine=False)
    web.app.state.ready = True  # as `run` sets it once delivery has started (else /ready is 503)
    try:
        for url in _serve(web):
            yield Live(url, web)
    finally:
        web.journal.close()
        web.store.close()


def _failures(live: Live, operation: Any, mode: schemathesis.GenerationMode) -> list[str]:
    """Run the operation's generated cases (valid ones, or invalid ones that must get a 4xx);
    the first failure's text, if any."""
    headers = {"Authorization": f"Bearer {live.web.admin_token}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,  # the same cases on every run: a failure is reproducible
    )
    def run(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate(base_url=live.url, headers=headers, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:  # nothing to make invalid (no parameters, any body): no negative case
        assert mode is schemathesis.GenerationMode.NEGATIVE
    except Exception as exc:  # each check's failure (and hypothesis' wrappers of it)
        return [f"{operation.label} ({mode.value}): {exc}"[:2000]]
    return []


def test_every_answer_matches_the_document(live: Live) -> None:
    schema = schemathesis.openapi.from_url(f"{live.url}/api/openapi.json")
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), [r for r in results if not isinstance(r, Ok)]
    assert len(operations) >= 20  # every operation is generated for, none failed to load
    failures = [
        line
        for operation in operations
        for mode in schemathesis.GenerationMode
        for line in _failures(live, operation, mode)
    ]
    assert not failures, "\n\n".join(failures)


def test_the_document_declares_how_to_authenticate(live: Live) -> None:
    document = live.web.app.openapi()
    schemes = document["components"]["securitySchemes"]
    assert schemes["apiToken"] == {**schemes["apiToken"], "type": "http", "scheme": "bearer"}
    assert schemes["session"]["in"] == "cookie" and schemes["session"]["name"] == "er_session"
    consumers = document["paths"]["/api/v1/consumers"]
    assert consumers["get"]["security"] == [{"apiToken": []}, {"session": []}]
    assert {"401", "403", "409", "400"} <= set(consumers["post"]["responses"])
    assert "422" not in str(document["paths"]) and "HTTPValidationError" not in str(document)
    assert "security" not in document["paths"]["/health"]["get"]
