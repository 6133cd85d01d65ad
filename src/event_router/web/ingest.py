"""`POST /api/v1/events`: the LMS (or anything) hands events to the router over HTTP.

The body is one JSON event, a JSON array of events, or NDJSON (one per line); gzip-encoded bodies
are accepted. Valid events are appended to the journal and the answer is sent only after the
commit: `202` when all were accepted, `400` with per-item errors when some (or all) were not —
the valid ones in the same request are accepted all the same, and the answer says which.

Ingest needs the bearer token (`EVENT_ROUTER_INGEST_TOKEN`) and is refused without one unless
the operator opened it (`--ingest-open`). Only JSON media types are taken, so no web page can
post events from a visitor's browser without a CORS preflight (which it would fail).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from event_router.events import NormaliseError, TrackingEvent, normalise
from event_router.gunzip import GzipError, gunzip
from event_router.journal import Journal, JournalFull
from event_router.sources.intake import Intake

router = APIRouter()


class IngestConfig:
    """What the ingest endpoint needs: the journal, the token, the size limit, counters."""

    def __init__(
        self,
        journal: Journal,
        token: str | None,
        max_bytes: int,
        intake: Intake | None = None,
        *,
        open_without_token: bool = False,
    ) -> None:
        self.journal = journal
        self.intake = intake or Intake(journal)
        self.token = token
        self.open = token is None and open_without_token  # a token, when set, is always required
        self._expected = _digest(f"Bearer {token}") if token is not None else b""
        self.max_bytes = max_bytes
        self.accepted = 0
        self.rejected = 0
        self.refused = 0  # requests answered 507: the journal could not take their events

    @property
    def auth(self) -> str:
        """How ingest is guarded, for status and the dashboard: token, open or closed."""
        return "token" if self.token is not None else "open" if self.open else "closed"

    def authorised(self, header: str) -> bool:
        """The request may ingest: open, or its Authorization header carries the token (compared
        in constant time, digests of equal length, so neither content nor length leaks)."""
        if self.open:
            return True
        return self.token is not None and hmac.compare_digest(_digest(header), self._expected)


# Media types ingest takes: none of them is one a browser may send cross-site without a
# CORS preflight (text/plain, form encodings), so no web page can post events on its own.
ACCEPTED_TYPES = ("application/json", "application/x-ndjson", "application/jsonl")
_LINE_TYPES = ("application/x-ndjson", "application/jsonl")


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).digest()


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _is_ndjson(body: bytes, media_type: str) -> bool:
    """One JSON object per line (said so, or not a single JSON document)."""
    stripped = body.lstrip()
    if media_type in _LINE_TYPES or stripped[:1] not in (b"[", b"{"):
        return True
    if stripped[:1] == b"{":
        try:
            orjson.loads(body)
        except orjson.JSONDecodeError:
            return True  # several objects: one per line
    return False


def _items(body: bytes) -> list[tuple[Any, bytes | None]]:
    """(value, its JSON bytes if the body is that one object) for the body's one object or
    each item of its array; raises `orjson.JSONDecodeError` for a malformed document."""
    value = orjson.loads(body)
    if isinstance(value, list):
        return [(item, None) for item in value]
    return [(value, body)]


@router.post("/api/v1/events", status_code=202, tags=["ingest"])
async def ingest(request: Request) -> JSONResponse:
    """Accept tracking events: a JSON object or array (`application/json`) or NDJSON
    (`application/x-ndjson`, `application/jsonl`), gzip allowed, with the ingest bearer token."""
    config: IngestConfig = request.app.state.ingest
    if not config.authorised(request.headers.get("authorization", "")):
        if config.token is None:
            return _error(
                401,
                "ingest is closed: the router has no EVENT_ROUTER_INGEST_TOKEN (set one and "
                "send it as a bearer token, or start the router with --ingest-open)",
            )
        return _error(401, "missing or wrong bearer token")
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type not in ACCEPTED_TYPES:
        return _error(
            415,
            f"unsupported content type {media_type or '(none)'!r}: send "
            + ", ".join(ACCEPTED_TYPES[:-1]) + f" or {ACCEPTED_TYPES[-1]} (gzip encoding allowed)",
            accepted_types=list(ACCEPTED_TYPES),
        )  # fmt: skip
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity", "gzip"):
        return _error(415, f"unsupported content encoding {encoding!r}: send gzip or none")
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > config.max_bytes:
        return _error(413, f"body larger than {config.max_bytes} bytes")
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():  # joined once: `+=` would copy a large body per chunk
        parts.append(chunk)
        size += len(chunk)
        if size > config.max_bytes:
            return _error(413, f"body larger than {config.max_bytes} bytes")
    body = b"".join(parts)
    if encoding == "gzip":
        try:
            body = gunzip(body, config.max_bytes)  # every member, as `gzip -d` reads it
        except GzipError as exc:
            return _error(400, f"body is not valid gzip: {exc}")
        except OverflowError:
            return _error(413, f"decompressed body larger than {config.max_bytes} bytes")
    if not body.strip():
        return _error(400, "empty body")
    if _is_ndjson(body, media_type):
        # One event per line, the LMS backend's format: normalised (and translated ahead) by
        # the intake, in the translation workers when the body is large.
        prepared = await config.intake.prepare(body, strict=True)
        errors = [{"index": index, "error": reason} for index, reason in prepared.rejects]
        return await _answer(
            config, prepared.items, errors, lambda: config.intake.commit(prepared, None)
        )
    try:
        items = _items(body)
    except orjson.JSONDecodeError as exc:
        return _error(400, f"body is not valid JSON: {exc}")
    bodies: list[bytes] = []
    events: list[TrackingEvent] = []
    errors = []
    for index, (value, raw) in enumerate(items):
        try:
            events.append(normalise(value))
            bodies.append(raw if raw is not None else orjson.dumps(value))
        except NormaliseError as exc:
            errors.append({"index": index, "error": str(exc)})
    events, bodies = config.intake.screen(events, bodies)  # the privacy screen
    return await _answer(
        config, len(items), errors, lambda: config.journal.append(bodies, None, events)
    )


async def _answer(
    config: IngestConfig,
    total: int,
    errors: list[dict[str, Any]],
    commit: Callable[[], Awaitable[object]],
) -> JSONResponse:
    """Commit the valid items (if any), then say what was accepted and what was not."""
    accepted = total - len(errors)
    if accepted:
        try:
            await commit()
        except JournalFull as exc:
            config.refused += 1
            return _error(507, f"journal cannot accept events: {exc}", accepted=0)
        config.accepted += accepted
    config.rejected += len(errors)
    answer: dict[str, Any] = {"accepted": accepted, "rejected": len(errors)}
    if errors:
        answer["errors"] = errors[:1000]
        accepted_indexes = sorted(set(range(total)) - {e["index"] for e in errors})
        answer["accepted_indexes"] = accepted_indexes[:10000]
        return JSONResponse(answer, status_code=400)
    return JSONResponse(answer, status_code=202)
