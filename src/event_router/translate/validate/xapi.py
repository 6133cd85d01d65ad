"""The rules an xAPI 1.0.3 statement must satisfy (see `validate`)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from event_router.translate.validate.common import is_iri, is_number, is_uuid

_SHA1 = re.compile(r"\A[0-9a-f]{40}\Z")
_LANGUAGE = re.compile(r"\A[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*\Z")
_DURATION = re.compile(
    r"\AP(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?\Z"
)
_VERSION = re.compile(r"\A1\.0\.\d+\Z")

_STATEMENT_KEYS = frozenset(
    {"id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority",
     "version", "attachments", "objectType"}
)  # fmt: skip
_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
_CONTEXT_ACTIVITY_KEYS = frozenset({"parent", "grouping", "category", "other"})


def xapi_problems(statement: Any) -> list[str]:
    """Why an LRS would reject `statement` (xAPI 1.0.3); empty when it is valid."""
    if not isinstance(statement, dict):
        return [f"a statement is a JSON object, not {type(statement).__name__}"]
    out: list[str] = []
    _no_nulls(statement, "$", out)
    for key in statement:
        if key not in _STATEMENT_KEYS:
            out.append(f"$.{key}: not an xAPI statement property")
    for key in ("actor", "verb", "object"):
        if key not in statement:
            out.append(f"$.{key}: required")
    if "id" in statement and not is_uuid(statement["id"]):
        out.append("$.id: not a UUID")
    if "version" in statement and not _VERSION.match(str(statement["version"])):
        out.append("$.version: must be 1.0.x")
    if "timestamp" in statement:
        _timestamp(statement["timestamp"], "$.timestamp", out)
    if isinstance(statement.get("actor"), dict):
        _agent(statement["actor"], "$.actor", out)
    elif "actor" in statement:
        out.append("$.actor: not an object")
    verb = statement.get("verb")
    if isinstance(verb, dict):
        if not is_iri(verb.get("id")):
            out.append("$.verb.id: not an IRI")
        if "display" in verb:
            _language_map(verb["display"], "$.verb.display", out)
    elif "verb" in statement:
        out.append("$.verb: not an object")
    obj = statement.get("object")
    if isinstance(obj, dict):
        _object(obj, "$.object", out)
    elif "object" in statement:
        out.append("$.object: not an object")
    if "result" in statement:
        _result(statement["result"], out)
    if "context" in statement:
        activity = not isinstance(obj, dict) or obj.get("objectType", "Activity") == "Activity"
        _context(statement["context"], activity, out)
    return out


def _no_nulls(value: Any, path: str, out: list[str]) -> None:
    """No null and no empty object outside extensions (xAPI 1.0.3 §2.2); extension values are
    free (only their keys are checked)."""
    if isinstance(value, dict):
        if not value:
            out.append(f"{path}: empty object")
        for key, item in value.items():
            if item is None:
                out.append(f"{path}.{key}: null")
            elif key != "extensions":
                _no_nulls(item, f"{path}.{key}", out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _no_nulls(item, f"{path}[{index}]", out)


def _timestamp(value: Any, path: str, out: list[str]) -> None:
    if not isinstance(value, str):
        out.append(f"{path}: not a string")
        return
    try:  # a time zone is recommended, not required (xAPI 1.0.3 §4.5: SHOULD*)
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        out.append(f"{path}: not an ISO 8601 timestamp")


def _language_map(value: Any, path: str, out: list[str]) -> None:
    if not isinstance(value, dict) or not value:
        out.append(f"{path}: not a language map")
        return
    for tag, text in value.items():
        if not _LANGUAGE.match(tag) or not isinstance(text, str):
            out.append(f"{path}.{tag}: not a language tag with a string")


def _agent(agent: dict[str, Any], path: str, out: list[str]) -> None:
    kind = agent.get("objectType", "Agent")
    if kind not in ("Agent", "Group"):
        out.append(f"{path}.objectType: {kind!r} is neither Agent nor Group")
    ifis = [key for key in _IFIS if key in agent]
    if kind == "Group" and not ifis:
        if not isinstance(agent.get("member"), list) or not agent["member"]:
            out.append(f"{path}: an anonymous group needs members")
        return
    if len(ifis) != 1:
        out.append(f"{path}: needs exactly one of {', '.join(_IFIS)} (has {len(ifis)})")
    if "mbox" in agent and not (
        isinstance(agent["mbox"], str) and agent["mbox"].startswith("mailto:")
    ):
        out.append(f"{path}.mbox: not a mailto IRI")
    if "mbox_sha1sum" in agent and not _SHA1.match(str(agent["mbox_sha1sum"])):
        out.append(f"{path}.mbox_sha1sum: not a hex SHA-1")
    if "openid" in agent and not is_iri(agent["openid"]):
        out.append(f"{path}.openid: not an IRI")
    if "account" in agent:
        account = agent["account"]
        if not isinstance(account, dict) or not is_iri(account.get("homePage")):
            out.append(f"{path}.account.homePage: not an IRI")
        elif not isinstance(account.get("name"), str) or not account["name"]:
            out.append(f"{path}.account.name: required")


def _object(obj: dict[str, Any], path: str, out: list[str]) -> None:
    kind = obj.get("objectType", "Activity")
    if kind in ("Agent", "Group"):
        _agent(obj, path, out)
    elif kind == "StatementRef":
        if not is_uuid(obj.get("id")):
            out.append(f"{path}.id: not a UUID")
    elif kind == "Activity":
        _activity(obj, path, out)
    elif kind != "SubStatement":
        out.append(f"{path}.objectType: {kind!r} is no xAPI object type")


def _activity(activity: Any, path: str, out: list[str]) -> None:
    if not isinstance(activity, dict):
        out.append(f"{path}: not an object")
        return
    if activity.get("objectType", "Activity") != "Activity":
        out.append(f"{path}.objectType: must be Activity")
    if not is_iri(activity.get("id")):
        out.append(f"{path}.id: not an IRI")
    definition = activity.get("definition")
    if definition is None:
        return
    if not isinstance(definition, dict):
        out.append(f"{path}.definition: not an object")
        return
    if "type" in definition and not is_iri(definition["type"]):
        out.append(f"{path}.definition.type: not an IRI")
    for key in ("name", "description"):
        if key in definition:
            _language_map(definition[key], f"{path}.definition.{key}", out)
    _extension_keys(definition.get("extensions"), f"{path}.definition.extensions", out)


def _extension_keys(extensions: Any, path: str, out: list[str]) -> None:
    if extensions is None:
        return
    if not isinstance(extensions, dict):
        out.append(f"{path}: not an object")
        return
    for key in extensions:
        if not is_iri(key):
            out.append(f"{path}: key {key!r} is not an IRI")


def _result(result: Any, out: list[str]) -> None:
    if not isinstance(result, dict):
        out.append("$.result: not an object")
        return
    for key in ("success", "completion"):
        if key in result and not isinstance(result[key], bool):
            out.append(f"$.result.{key}: not a boolean")
    if "response" in result and not isinstance(result["response"], str):
        out.append("$.result.response: not a string")
    if "duration" in result and not (
        isinstance(result["duration"], str) and _DURATION.match(result["duration"])
    ):
        out.append("$.result.duration: not an ISO 8601 duration")
    _extension_keys(result.get("extensions"), "$.result.extensions", out)
    score = result.get("score")
    if score is None:
        return
    if not isinstance(score, dict):
        out.append("$.result.score: not an object")
        return
    for key, value in score.items():
        if key not in ("scaled", "raw", "min", "max") or not is_number(value):
            out.append(f"$.result.score.{key}: not a score number")
            return
    low, high, raw = score.get("min"), score.get("max"), score.get("raw")
    if "scaled" in score and not -1 <= score["scaled"] <= 1:
        out.append("$.result.score.scaled: outside -1..1")
    if low is not None and high is not None and not low < high:
        out.append("$.result.score: min must be less than max")
    if raw is not None and low is not None and raw < low:
        out.append("$.result.score.raw: below min")
    if raw is not None and high is not None and raw > high:
        out.append("$.result.score.raw: above max")


def _context(context: Any, object_is_activity: bool, out: list[str]) -> None:
    if not isinstance(context, dict):
        out.append("$.context: not an object")
        return
    if "registration" in context and not is_uuid(context["registration"]):
        out.append("$.context.registration: not a UUID")
    if not object_is_activity:
        for key in ("revision", "platform"):
            if key in context:
                out.append(f"$.context.{key}: only when the object is an Activity")
    if "language" in context and not _LANGUAGE.match(str(context["language"])):
        out.append("$.context.language: not a language tag")
    statement = context.get("statement")
    if statement is not None and not (
        isinstance(statement, dict)
        and statement.get("objectType") == "StatementRef"
        and is_uuid(statement.get("id"))
    ):
        out.append("$.context.statement: not a StatementRef")
    _extension_keys(context.get("extensions"), "$.context.extensions", out)
    activities = context.get("contextActivities")
    if activities is None:
        return
    if not isinstance(activities, dict):
        out.append("$.context.contextActivities: not an object")
        return
    for key, value in activities.items():
        path = f"$.context.contextActivities.{key}"
        if key not in _CONTEXT_ACTIVITY_KEYS:
            out.append(f"{path}: not parent, grouping, category or other")
            continue
        for index, item in enumerate(value if isinstance(value, list) else [value]):
            _activity(item, f"{path}[{index}]", out)
