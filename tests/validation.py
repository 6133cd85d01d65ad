"""Validators for what the router sends: xAPI statements and IMS Caliper 1.2 events and envelopes.

Each check combines independent opinions so that a bug slips through only if all of them miss it:

- xAPI: Ralph's pydantic model (`BaseXapiStatement`), Rustici's tin-can JSON schema (Draft 4 with
  its own format regexes), and the producer rules neither of them enforces fully (no null or empty
  values anywhere, `version` absent or `1.0.0`, score raw within min..max and min < max,
  `result.response` a string).
- Caliper: the IMS 1.2 JSON schema of the event's `type`, `CaliperData.json` (`urn:uuid:` ids), the
  exact `YYYY-MM-DDTHH:mm:ss.SSSZ` UTC form of every time, entity ids that are IRIs (the schemas
  take any string), the actions the spec allows per event type (the schemas take any Caliper
  action), no null values, and for envelopes a `data` array of objects (the published
  `Envelope.json` types it wrongly).

Validators are built once, on first use. Every failure is an `AssertionError` whose message names
the failing path, e.g. `xAPI (tin-can schema) at $.result.score.raw: 'x' is not of type 'number'`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import rfc3987
from jsonschema import Draft4Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from pydantic import ValidationError as PydanticValidationError
from ralph.models.xapi.base.statements import BaseXapiStatement
from referencing import Registry
from referencing.jsonschema import DRAFT4

SHARED = Path(__file__).resolve().parents[2] / "shared"
XAPI_SCHEMA_DIR = SHARED / "schemas" / "xapi-1.0"
CALIPER_SCHEMA_DIR = SHARED / "schemas" / "caliper-1.2"

_TINCAN_URI = "urn:tin-can-json-schema:1.0.1"
CALIPER_CONTEXT = "http://purl.imsglobal.org/ctx/caliper/v1p2"
# Caliper 1.2 (section "Events") limits the actions of each event type; the JSON schemas only check
# that an action is one of all Caliper actions. The types the router emits (and ViewEvent):
CALIPER_ACTIONS = {
    "AssessmentEvent": {"Started", "Paused", "Resumed", "Restarted", "Reset", "Submitted"},
    "AssessmentItemEvent": {"Started", "Skipped", "Completed"},
    "GradeEvent": {"Graded"},
    "MediaEvent": {
        "Started", "Ended", "Paused", "Resumed", "Restarted", "ForwardedTo", "JumpedTo",
        "ChangedResolution", "ChangedSize", "ChangedSpeed", "ChangedVolume",
        "EnabledClosedCaptioning", "DisabledClosedCaptioning", "EnteredFullScreen",
        "ExitedFullScreen", "Muted", "Unmuted", "OpenedPopout", "ClosedPopout",
    },
    "NavigationEvent": {"NavigatedTo"},
    "ViewEvent": {"Viewed"},
    "AnnotationEvent": {"Bookmarked", "Highlighted", "Shared", "Tagged"},
    "FeedbackEvent": {"Commented", "Ranked"},
    "ResourceManagementEvent": {
        "Archived", "Copied", "Created", "Deleted", "Described", "Downloaded", "Modified",
        "Printed", "Published", "Restored", "Retrieved", "Saved", "Unpublished", "Uploaded",
    },
    "SearchEvent": {"Searched"},
    "ToolUseEvent": {"Used"},
}  # fmt: skip
# Event properties whose value may be an entity given as its IRI.
_ENTITY_PROPERTIES = (
    "actor", "object", "target", "generated", "referrer", "edApp", "group", "membership",
    "session", "federatedSession",
)  # fmt: skip
# The only time form Caliper 1.2 allows: millisecond precision, UTC, a literal Z.
CALIPER_TIME = re.compile(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\Z")


# ---------------------------------------------------------------------------------------------
# xAPI


def assert_valid_xapi(statement: Any) -> None:
    """Raise AssertionError (naming the failing path) unless `statement` is valid xAPI."""
    if not isinstance(statement, dict):
        raise AssertionError(f"xAPI: a statement is a JSON object, not {type(statement).__name__}")
    _check_producer_rules(statement)
    try:
        BaseXapiStatement.model_validate(statement)
    except PydanticValidationError as exc:
        count = exc.error_count()
        raise AssertionError(
            f"xAPI (Ralph): {count} error(s)\n{_pydantic_errors(exc)}\n{_dump(statement)}"
        ) from None
    _raise_schema_error("xAPI (tin-can schema)", _tincan_validator(), statement)


def _pydantic_errors(exc: PydanticValidationError) -> str:
    """Ralph's errors, the specific ones first (a union reports one error per branch)."""
    lines = []
    for error in sorted(exc.errors(), key=lambda e: -len(e["loc"])):
        where = "$" + "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}"
            for part in error["loc"]
            # leave out pydantic's union branch names (`BaseXapiActivity`, `list[...]`)
            if not (isinstance(part, str) and (part[:1].isupper() or part.startswith("list[")))
        )
        lines.append(f"  at {where}: {error['msg']}")
    return "\n".join(lines[:5])


def _check_producer_rules(statement: dict[str, Any]) -> None:
    for path, value in _walk(statement):
        if value is None:
            raise AssertionError(f"xAPI at {path}: null value\n{_dump(statement)}")
        if value in ("", {}, []):
            raise AssertionError(f"xAPI at {path}: empty value {value!r}\n{_dump(statement)}")
    version = statement.get("version")
    if version is not None and version != "1.0.0":
        # Data 2.4.10: a producer SHOULD NOT set it and, if it does, MUST set 1.0.0.
        raise AssertionError(
            f"xAPI at $.version: a producer must send 1.0.0 or nothing, not {version!r}"
        )
    result = statement.get("result")
    if isinstance(result, dict):
        _check_result(result, statement)


def _check_result(result: dict[str, Any], statement: dict[str, Any]) -> None:
    if "response" in result and not isinstance(result["response"], str):
        raise AssertionError(
            f"xAPI at $.result.response: must be a string, not {type(result['response']).__name__}"
            f"\n{_dump(statement)}"
        )
    score = result.get("score")
    if not isinstance(score, dict):
        return
    numbers = {k: score[k] for k in ("raw", "min", "max", "scaled") if k in score}
    for key, number in numbers.items():
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise AssertionError(f"xAPI at $.result.score.{key}: {number!r} is not a number")
    low, high, raw, scaled = (numbers.get(k) for k in ("min", "max", "raw", "scaled"))
    problem = None
    if low is not None and high is not None and not low < high:
        problem = f"min ({low}) must be less than max ({high})"
    elif raw is not None and low is not None and raw < low:
        problem = f"raw ({raw}) is below min ({low})"
    elif raw is not None and high is not None and raw > high:
        problem = f"raw ({raw}) is above max ({high})"
    elif scaled is not None and not -1 <= scaled <= 1:
        problem = f"scaled ({scaled}) is outside -1..1"
    if problem:
        raise AssertionError(f"xAPI at $.result.score: {problem}\n{_dump(statement)}")


@cache
def _tincan_validator() -> Draft4Validator:
    schema = json.loads((XAPI_SCHEMA_DIR / "1.0.1.json").read_text())
    registry: Registry[Any] = Registry().with_resource(_TINCAN_URI, DRAFT4.create_resource(schema))
    checker = FormatChecker(formats=())
    for name, pattern in json.loads((XAPI_SCHEMA_DIR / "formats.json").read_text()).items():
        checker.checks(name)(_js_regex_check(pattern))
    return Draft4Validator(
        {"$ref": f"{_TINCAN_URI}#statement"}, registry=registry, format_checker=checker
    )


def _js_regex_check(pattern: str) -> Callable[[object], bool]:
    """A format check behaving like JavaScript's `RegExp.test`, which the schema was written for.

    JavaScript matches UTF-16 code units (so the schema's classes list surrogate pairs) and its `$`
    never matches before a final newline; both are reproduced here.
    """
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    compiled = re.compile(pattern)

    def check(instance: object) -> bool:
        if not isinstance(instance, str):
            return True
        return compiled.search(_utf16_units(instance)) is not None

    return check


def _utf16_units(text: str) -> str:
    if text.isascii() or all(ord(ch) <= 0xFFFF for ch in text):
        return text
    out = []
    for ch in text:
        code = ord(ch)
        if code > 0xFFFF:
            code -= 0x10000
            out.append(chr(0xD800 + (code >> 10)))
            out.append(chr(0xDC00 + (code & 0x3FF)))
        else:
            out.append(ch)
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Caliper


def assert_valid_caliper_event(event: Any) -> None:
    """Raise AssertionError (naming the failing path) unless `event` is a valid Caliper event."""
    if not isinstance(event, dict):
        raise AssertionError(f"Caliper: an event is a JSON object, not {type(event).__name__}")
    _check_caliper_event(event, "$")


def assert_valid_caliper_envelope(envelope: Any) -> None:
    """Raise AssertionError unless `envelope` is a valid Caliper 1.2 envelope of valid events."""
    if not isinstance(envelope, dict):
        raise AssertionError(
            f"Caliper: an envelope is a JSON object, not {type(envelope).__name__}"
        )
    validators = _caliper_validators()
    _raise_schema_error("Caliper envelope (Envelope.json)", validators.envelope, envelope)
    data = envelope["data"]
    for index, item in enumerate(data):
        if "eventTime" in item or "action" in item:  # an event, not an entity "describe"
            _check_caliper_event(item, f"$.data[{index}]", envelope)
        else:
            entity_type = item.get("type")
            _raise_schema_error(
                f"Caliper entity ({entity_type})",
                validators.of_type(entity_type, f"$.data[{index}]"),
                item,
                f"$.data[{index}]",
                envelope,
            )
    _check_caliper_times(envelope, "$", envelope)


def _check_caliper_event(event: dict[str, Any], where: str, whole: Any = None) -> None:
    validators = _caliper_validators()
    shown = event if whole is None else whole
    for path, value in _walk(event, where):
        if value is None:
            raise AssertionError(f"Caliper at {path}: null value\n{_dump(shown)}")
    if event.get("@context") != CALIPER_CONTEXT:
        raise AssertionError(
            f"Caliper at {where}.@context: expected {CALIPER_CONTEXT!r}, got "
            f"{event.get('@context')!r}\n{_dump(shown)}"
        )
    _raise_schema_error("Caliper event (CaliperData.json)", validators.data, event, where, shown)
    event_type = event.get("type")
    _raise_schema_error(
        f"Caliper event ({event_type}.json)",
        validators.of_type(event_type, where),
        event,
        where,
        shown,
    )
    allowed = CALIPER_ACTIONS.get(str(event_type))
    if allowed is not None and event.get("action") not in allowed:
        raise AssertionError(
            f"Caliper at {where}.action: a {event_type} allows only {', '.join(sorted(allowed))}, "
            f"not {event.get('action')!r}\n{_dump(shown)}"
        )
    _check_caliper_times(event, where, shown)
    _check_caliper_iris(event, where, shown)


def _check_caliper_iris(event: dict[str, Any], where: str, shown: Any) -> None:
    """Entity ids (and entities given as bare strings) are IRIs or blank nodes (`_:…`); the
    schemas type them as plain strings."""
    for path, value in _walk(event, where):
        if isinstance(value, dict) and "type" in value and "id" in value:
            _check_iri(value["id"], f"{path}.id", shown)
    for key in _ENTITY_PROPERTIES:
        value = event.get(key)
        if isinstance(value, str):
            _check_iri(value, f"{where}.{key}", shown)


def _check_iri(value: Any, path: str, shown: Any) -> None:
    if isinstance(value, str) and value.startswith("_:") and len(value) > 2:
        return
    try:
        rfc3987.parse(value, rule="IRI")
    except (ValueError, TypeError):
        raise AssertionError(
            f"Caliper at {path}: {value!r} is not an IRI\n{_dump(shown)}"
        ) from None


def _check_caliper_times(value: Any, where: str, shown: Any) -> None:
    names = _caliper_validators().time_properties
    for path, item, key in _walk_keys(value, where):
        if (
            key in names
            and isinstance(item, str)
            and (not CALIPER_TIME.match(item) or not _real_time(item))
        ):
            raise AssertionError(
                f"Caliper at {path}: {item!r} is not a YYYY-MM-DDTHH:mm:ss.SSSZ UTC time"
                f"\n{_dump(shown)}"
            )


def _real_time(text: str) -> bool:
    try:
        datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return False
    return True


class _CaliperValidators:
    def __init__(self) -> None:
        schemas: dict[str, dict[str, Any]] = {}
        for path in sorted(CALIPER_SCHEMA_DIR.glob("*.json")):
            schema = json.loads(path.read_text())
            schemas[schema["id"]] = schema
        # Envelope.json types `data` as one entity; the spec (and every real envelope) says an
        # array of events and/or entities, so check it as an array of objects and each item apart.
        envelope = json.loads(json.dumps(schemas["Envelope"]))
        envelope["properties"]["data"] = {
            "type": "array",
            "minItems": 1,
            "items": {"type": "object"},
        }
        envelope["required"] = ["sensor", "sendTime", "dataVersion", "data"]
        envelope["additionalProperties"] = False
        schemas["Envelope"] = envelope
        # The files name no dialect (`schema`, not `$schema`): they are Draft 4.
        registry: Registry[Any] = Registry().with_resources(
            (name, DRAFT4.create_resource(schema)) for name, schema in schemas.items()
        )
        checker = Draft4Validator.FORMAT_CHECKER
        self._validators = {
            name: Draft4Validator(schema, registry=registry, format_checker=checker)
            for name, schema in schemas.items()
        }
        self.envelope = self._validators["Envelope"]
        self.data = self._validators["CaliperData"]
        self.time_properties = frozenset(_date_time_properties(schemas.values()))

    def of_type(self, type_name: Any, where: str) -> Draft4Validator:
        validator = self._validators.get(type_name) if isinstance(type_name, str) else None
        if validator is None or type_name in ("CaliperData", "CaliperTypeDefinitions", "Envelope"):
            raise AssertionError(f"Caliper at {where}.type: unknown Caliper type {type_name!r}")
        return validator


def _date_time_properties(schemas: Any) -> Iterator[str]:
    """Every property the Caliper schemas declare as a date-time (eventTime, startedAtTime, ...)."""
    for schema in schemas:
        stack = [schema]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                properties = node.get("properties")
                if isinstance(properties, dict):
                    for name, spec in properties.items():
                        if isinstance(spec, dict) and spec.get("format") == "date-time":
                            yield name
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)


@cache
def _caliper_validators() -> _CaliperValidators:
    return _CaliperValidators()


# ---------------------------------------------------------------------------------------------
# Shared helpers


def _raise_schema_error(
    what: str, validator: Draft4Validator, instance: Any, where: str = "$", shown: Any = None
) -> None:
    """Raise the most telling schema error; paths are given from `where` (e.g. `$.data[0]`)."""
    error: ValidationError | None = best_match(validator.iter_errors(instance))
    if error is None:
        return
    shown = instance if shown is None else shown
    detail = error
    while detail.context:  # anyOf/oneOf: show the complaint of the branch that got furthest
        deepest = max(len(e.path) for e in detail.context)
        if deepest == 0:
            break
        candidates = [e for e in detail.context if len(e.path) == deepest]
        if all(e.validator == "pattern" and e.path[-1] == "type" for e in candidates):
            # every entity branch rejects the `type`: say which types would do
            names = sorted({str(e.validator_value).strip("^$") for e in candidates})
            raise AssertionError(
                f"{what} at {_path(where, candidates[0])}: {candidates[0].instance!r} is not one "
                f"of the types allowed here ({', '.join(names)})\n{_dump(shown)}"
            )
        deeper = best_match(candidates)
        if deeper is None:
            break
        detail = deeper
    message = detail.message
    if len(message) > 300:  # the message repeats the instance or a long list: keep it readable
        value = repr(detail.instance)
        value = value if len(value) < 200 else value[:200] + "…"
        expected = detail.validator_value
        reasons = {
            "anyOf": "is not valid under any of the given schemas",
            "oneOf": "is not valid under exactly one of the given schemas",
            "type": f"is not of type {expected!r}",
            "enum": f"is not one of the {len(expected) if isinstance(expected, list) else ''} "
            "allowed values",
            "pattern": "does not match the pattern",
            "patternProperties": "has a key that matches no allowed pattern",
        }
        message = f"{value} {reasons.get(str(detail.validator), f'fails {detail.validator!r}')}"
    raise AssertionError(f"{what} at {_path(where, detail)}: {message}\n{_dump(shown)}")


def _path(where: str, error: ValidationError) -> str:
    return where + str(error.json_path)[1:]


def _walk(value: Any, path: str = "$") -> Iterator[tuple[str, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


def _walk_keys(value: Any, path: str) -> Iterator[tuple[str, Any, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}", item, key
            yield from _walk_keys(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk_keys(item, f"{path}[{index}]")


def _dump(value: Any) -> str:
    text = json.dumps(value, indent=1, sort_keys=True, default=str)
    return text if len(text) < 4000 else text[:4000] + "\n…"


__all__ = [
    "assert_valid_caliper_envelope",
    "assert_valid_caliper_event",
    "assert_valid_xapi",
]
