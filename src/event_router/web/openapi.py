"""The OpenAPI document says what the server really does: how to authenticate, and every answer.

FastAPI cannot see either by itself here: authentication is a plain dependency reading the
request (a bearer API token or the UI's session cookie), and errors are answered by exception
handlers (web.errors) in the `{"error": ...}` shape, never FastAPI's 422. So the generated
document is completed once: security schemes, and for each operation the error answers it can
give. A client generated from the document, or a tool checking answers against it
(schemathesis, in the test suite), then sees no surprise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from event_router.web.auth import SESSION_COOKIE, api_admin, api_viewer
from event_router.web.errors import ErrorBody

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
SECURITY_SCHEMES = {
    "apiToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token: `event-router tokens create USER` (docs/web.md).",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "The admin UI's session; changes also need the X-CSRF-Token header.",
    },
}
INGEST_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "EVENT_ROUTER_INGEST_TOKEN, when the router is given one.",
}
_REASONS = {
    400: "Invalid input: nothing changed.",
    401: "Not authenticated.",
    403: "Authenticated, but not allowed (a viewer changing something).",
    404: "No such consumer, dead letter or path.",
    409: "Conflict: the name is taken, or the journal cannot rewind this consumer yet.",
    413: "The body is too large.",
    507: "The journal cannot take events (disk full): nothing was accepted.",
    503: "Not available now (the journal is full or closed, the database unreachable).",
}


def install(app: FastAPI) -> None:
    """Serve the completed document at the app's openapi_url."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            complete(document, app)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any], app: FastAPI) -> None:
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)  # never answered: invalid input is a 400
    schemas.pop("ValidationError", None)
    schemas["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemes = components.setdefault("securitySchemes", {})
    schemes.update(SECURITY_SCHEMES)
    ingest_token = getattr(getattr(app.state, "ingest", None), "token", None)
    if ingest_token is not None:
        schemes["ingestToken"] = INGEST_SCHEME
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods:
            operation = document["paths"][route.path_format].get(method.lower())
            if operation is not None:
                _describe(operation, route, ingest_token is not None)


def _describe(operation: dict[str, Any], route: APIRoute, ingest_token: bool) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)
    calls = set(_calls(route.dependant))
    codes: set[int] = set()
    if operation.get("parameters") or operation.get("requestBody"):
        codes.add(400)
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        codes.add(404)
    if api_viewer in calls:
        operation["security"] = [{"apiToken": []}, {"session": []}]
        codes |= {401, 503}
    if api_admin in calls:
        codes.add(403)
    if route.path == "/api/v1/events":
        _ingest(operation, ingest_token)
        codes |= {413, 507} | ({401} if ingest_token else set())
    if route.path in ("/api/v1/consumers", "/api/v1/users") and "POST" in route.methods:
        codes.add(409)
    if route.path == "/api/v1/consumers/{name}/rewind":
        codes.add(409)
    for code in sorted(codes):
        responses.setdefault(str(code), _error(_REASONS[code]))
    responses.setdefault("default", _error("Unexpected failure (500): the router logged it."))
    if route.path == "/ready":
        ready = {"type": "object", "properties": {"ready": {"type": "boolean"}}}
        responses["200"]["content"] = {"application/json": {"schema": ready}}
        responses["503"] = {
            "description": "Not ready yet.",
            "content": {"application/json": {"schema": ready}},
        }
    if route.path == "/metrics":
        responses["200"] = {
            "description": "Prometheus text format.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }


INGEST_ANSWER = {
    "type": "object",
    "required": ["accepted", "rejected"],
    "properties": {
        "accepted": {"type": "integer", "description": "Events now in the journal."},
        "rejected": {"type": "integer"},
        "errors": {
            "type": "array",
            "description": "Why each rejected item was rejected (first 1000).",
            "items": {
                "type": "object",
                "required": ["index", "error"],
                "properties": {"index": {"type": "integer"}, "error": {"type": "string"}},
            },
        },
        "accepted_indexes": {"type": "array", "items": {"type": "integer"}},
    },
}


def _ingest(operation: dict[str, Any], ingest_token: bool) -> None:
    """The ingest answer: per item (202, or 400 naming the rejected items) or one message."""
    json_of: Any = lambda schema: {"application/json": {"schema": schema}}  # noqa: E731
    operation["responses"]["202"] = {
        "description": "Every item accepted.",
        "content": json_of(INGEST_ANSWER),
    }
    operation["responses"]["400"] = {
        "description": "Some or all items rejected (the rest accepted), or an unreadable body.",
        "content": json_of({"anyOf": [INGEST_ANSWER, ERROR_REF]}),
    }
    operation["requestBody"] = {
        "required": True,
        "description": "One event, an array of events, or NDJSON; gzip allowed.",
        "content": {
            "application/json": {"schema": {}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
    if ingest_token:
        operation["security"] = [{"ingestToken": []}]


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)
