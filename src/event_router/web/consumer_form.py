"""The consumer form: every configuration field as text inputs, and back, with messages per field.

A form holds strings; a consumer holds lists, mappings, numbers. This module converts both ways
and turns validation errors (`route.allow.0: …`, `batch_size: …`) into a message beside the field
they belong to, keeping what the operator typed so nothing is lost on an error. Secrets are never
put into the form: blank keeps the stored value, a "clear" box removes it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from event_router.routing.consumer import SECRET_FIELDS
from event_router.store.config_yaml import secret_header
from event_router.store.destination import moved
from event_router.web.secrets_mask import MASK, keep_masked_url

TEXT_FIELDS = ("name", "protocol", "sink", "url", "auth", "username", "identity", "sensor_id")
NUMBER_FIELDS = {"batch_size": int, "linger": float, "max_in_flight": int, "timeout": float}
ROUTE_LISTS = ("allow", "deny", "courses", "orgs", "sites", "users", "activity_types")
JSON_FIELDS = {"override_args": '{"version": "1.0.3"}', "sink_options": '{"topic": "xapi"}'}
DEFAULTS = {
    "protocol": "xapi",
    "sink": "",
    "auth": "none",
    "identity": "anonymous",
    "batch_size": "100",
    "linger": "0.02",
    "max_in_flight": "1",
    "timeout": "10",
}


@dataclass
class Form:
    """What the template shows: field values as text, messages by field, and general messages."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    secrets_set: dict[str, bool] = field(default_factory=dict)
    rewind_error: str | None = None  # the consumer page's rewind box, when its time was refused

    def add_errors(self, lines: list[str]) -> None:
        """Place `path: message` lines beside their field; the rest go on top."""
        for line in lines:
            path, sep, message = line.partition(": ")
            if not sep:
                self.general.append(line)
                continue
            parts = path.split(".")
            name = parts[1] if parts[0] == "route" and len(parts) > 1 else parts[0]
            if name in self.values or name in SECRET_FIELDS:
                self.errors.setdefault(name, message)
            else:
                self.general.append(line)


def blank() -> Form:
    values: dict[str, Any] = {name: "" for name in TEXT_FIELDS}
    values.update(DEFAULTS)
    values.update({name: "" for name in (*ROUTE_LISTS, *JSON_FIELDS, "headers", "match_params")})
    values["enabled"] = True
    values["guest_learners"] = False
    values["validate"] = False
    values["hooks"] = ""
    values["events"] = ""
    return Form(values, secrets_set=dict.fromkeys(SECRET_FIELDS, False))


def from_public(data: Mapping[str, Any]) -> Form:
    """A form filled from a consumer's public configuration (secrets masked)."""
    form = blank()
    values = form.values
    for name in TEXT_FIELDS:
        value = data.get(name)
        values[name] = "" if value is None else str(value)
    for name in NUMBER_FIELDS:
        values[name] = f"{data[name]:g}" if isinstance(data[name], float) else str(data[name])
    values["enabled"] = bool(data.get("enabled"))
    values["guest_learners"] = bool(data.get("guest_learners"))
    values["validate"] = bool(data.get("validate"))
    values["hooks"] = "\n".join(data.get("hooks") or [])
    values["headers"] = "\n".join(f"{k}: {v}" for k, v in (data.get("headers") or {}).items())
    for name in JSON_FIELDS:
        found = data.get(name) or {}
        values[name] = json.dumps(found, indent=2) if found else ""
    route = data.get("route") or {}
    for name in ROUTE_LISTS:
        values[name] = "\n".join(route.get(name) or [])
    lines = []
    for path, patterns in (route.get("match_params") or {}).items():
        for pattern in patterns if isinstance(patterns, list) else [patterns]:
            lines.append(f"{path} = {pattern}")
    values["match_params"] = "\n".join(lines)
    form.secrets_set = {name: bool(data.get(name)) for name in SECRET_FIELDS}
    return form


def parse(
    submitted: Mapping[str, Any], stored: Mapping[str, Any] | None
) -> tuple[Form, dict[str, Any]]:
    """(the form as typed, the configuration it asks for). `stored` is the consumer's current
    full configuration (with secrets) when editing, None when adding. Problems that can be seen
    without the model (a number that is not one, a header line without a colon) are in
    `form.errors`; the configuration is only meaningful when there are none."""
    form = blank()
    text = {key: str(submitted.get(key, "") or "") for key in form.values}
    checks = ("enabled", "guest_learners", "validate")
    form.values.update({key: value for key, value in text.items() if key not in checks})
    for name in checks:
        form.values[name] = submitted.get(name) in ("on", "true", "1")
    config: dict[str, Any] = {name: form.values[name] for name in checks}
    for name in TEXT_FIELDS:
        value = text[name].strip()
        if value or name in ("name", "url"):
            config[name] = value
        else:
            config[name] = None if name in ("sink", "username", "sensor_id") else DEFAULTS[name]
    for name, kind in NUMBER_FIELDS.items():
        raw = text[name].strip()
        try:
            config[name] = kind(raw)
        except ValueError:
            form.errors[name] = "must be a whole number" if kind is int else "must be a number"
    keep_masked_url(config, stored)  # the URL is shown masked; sent back so, it is unchanged
    if stored is not None and moved(stored.get("url"), config["url"]):
        stored = None  # another destination: stored secrets do not follow (store/destination.py)
    config["headers"] = _headers(text["headers"], stored, form)
    for name, example in JSON_FIELDS.items():
        config[name] = _json_object(name, text[name], form, example)
    config["hooks"] = _lines(text["hooks"])
    route: dict[str, Any] = {name: _lines(text[name]) for name in ROUTE_LISTS}
    route["match_params"] = _match_params(text["match_params"], form)
    config["route"] = route
    preset = text["events"].strip()
    if preset:  # a preset replaces the allow list (the textarea shows the one it replaces)
        config["events"] = preset
        del route["allow"]
    for name in SECRET_FIELDS:
        typed = str(submitted.get(name, "") or "")
        if submitted.get(f"clear_{name}") in ("on", "true", "1"):
            config[name] = None
        elif typed:
            config[name] = typed
        else:
            config[name] = (stored or {}).get(name)
        form.secrets_set[name] = bool(config[name])
    return form, config


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def _headers(value: str, stored: Mapping[str, Any] | None, form: Form) -> dict[str, str]:
    headers: dict[str, str] = {}
    kept = (stored or {}).get("headers") or {}
    for line in _lines(value):
        key, sep, rest = line.partition(":")
        if not sep or not key.strip():
            form.errors["headers"] = f"write one header per line as Name: value (not {line!r})"
            continue
        key, rest = key.strip(), rest.strip()
        if rest == MASK and secret_header(key):
            if key not in kept:
                form.errors["headers"] = f"{key}: enter the value (none is stored for this URL)"
                continue
            rest = kept[key]  # shown masked; unchanged
        headers[key] = rest
    return headers


def _json_object(name: str, value: str, form: Form, example: str) -> dict[str, Any]:
    if not value.strip():
        return {}
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        form.errors[name] = f"not valid JSON: {exc}"
        return {}
    if not isinstance(parsed, dict):
        form.errors[name] = f"must be a JSON object, e.g. {example}"
        return {}
    return parsed


def _match_params(value: str, form: Form) -> dict[str, str | list[str]]:
    params: dict[str, list[str]] = {}
    for line in _lines(value):
        path, sep, pattern = line.partition("=")
        if not sep or not path.strip():
            form.errors["match_params"] = f"write one rule per line as path = regex (not {line!r})"
            continue
        params.setdefault(path.strip(), []).append(pattern.strip())
    return {path: items[0] if len(items) == 1 else items for path, items in params.items()}
