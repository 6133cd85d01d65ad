"""Consumers as YAML, for operators who keep configuration in git.

Import takes a list of consumers (each with `name`) or a mapping of name → configuration. Export
writes a list, fields in a readable order, defaults left out, secrets left out unless asked for.
"""

from __future__ import annotations

from typing import Any

import yaml

from event_router.routing.consumer import SECRET_FIELDS, Consumer
from event_router.store.errors import InvalidConfig

_FIRST = ("name", "enabled", "protocol", "sink", "url", "auth")
_CREDENTIAL_WORDS = ("authorization", "cookie", "token", "secret", "key", "password")


def secret_header(name: str) -> bool:
    """Headers that carry credentials (Authorization, X-Api-Key, ...) are secrets too."""
    return any(word in name.lower() for word in _CREDENTIAL_WORDS)


def keep_secrets(data: dict[str, Any], stored: dict[str, Any]) -> None:
    """Fill in the secrets (fields and credential headers) that `data` leaves out from `stored`."""
    from event_router.web.secrets_mask import keep_masked_url

    keep_masked_url(data, stored)  # an export without secrets masks the URL's query values
    for secret in SECRET_FIELDS:
        if secret not in data and stored.get(secret) is not None:
            data[secret] = stored[secret]
    kept = {k: v for k, v in (stored.get("headers") or {}).items() if secret_header(k)}
    headers = data.get("headers")
    if kept and (headers is None or isinstance(headers, dict)):
        data["headers"] = {**kept, **(headers or {})}


def parse(text: str) -> list[tuple[str, dict[str, Any]]]:
    """(name, data) for each consumer in the document; InvalidConfig lists every shape problem."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidConfig([_yaml_error(exc)], "not valid YAML") from None
    if document is None:
        return []
    items: list[tuple[str, Any]]
    if isinstance(document, list):
        items = [(f"[{i}]", entry) for i, entry in enumerate(document)]
    elif isinstance(document, dict):
        items = [(str(key), entry) for key, entry in document.items()]
    else:
        raise InvalidConfig(["expected a list of consumers or a mapping of name to consumer"])
    errors: list[str] = []
    seen: set[str] = set()
    result: list[tuple[str, dict[str, Any]]] = []
    for where, entry in items:
        if not isinstance(entry, dict):
            errors.append(f"{where}: expected a mapping of consumer fields")
            continue
        data = {str(key): value for key, value in entry.items()}
        if isinstance(document, dict) and data.setdefault("name", where) != where:
            errors.append(f"{where}: name {data['name']!r} differs from its key")
            continue
        name = data.get("name")
        if not isinstance(name, str) or not name:
            errors.append(f"{where}.name: Field required")
            continue
        if name in seen:
            errors.append(f"{name}: appears more than once")
            continue
        seen.add(name)
        result.append((name, data))
    if errors:
        raise InvalidConfig(errors, "nothing imported; fix these and try again")
    return result


def render(consumers: list[Consumer], with_secrets: bool) -> str:
    if with_secrets:
        header = "# event-router consumers, WITH SECRETS: keep this file private.\n"
    else:
        header = (
            "# event-router consumers. Secrets (password, token, signing_secret, credential\n"
            "# headers such as Authorization) are not included: importing this file keeps the\n"
            "# stored ones. --with-secrets includes them.\n"
        )
    documents = [_document(consumer, with_secrets) for consumer in consumers]
    if not documents:
        return header + "[]\n"
    return header + yaml.safe_dump(documents, sort_keys=False, allow_unicode=True, width=100)


def _document(consumer: Consumer, with_secrets: bool) -> dict[str, Any]:
    data = consumer.model_dump(mode="json", exclude_defaults=True)
    full = consumer.model_dump(mode="json")
    ordered = {key: full[key] for key in _FIRST}
    ordered.update((key, value) for key, value in data.items() if key not in ordered)
    for secret in SECRET_FIELDS:
        if not with_secrets or ordered.get(secret) is None:
            ordered.pop(secret, None)
    if not with_secrets:
        from event_router.web.secrets_mask import mask_url

        ordered["url"] = mask_url(ordered["url"])
    if not with_secrets and "headers" in ordered:
        ordered["headers"] = {k: v for k, v in ordered["headers"].items() if not secret_header(k)}
        if not ordered["headers"]:
            del ordered["headers"]
    return ordered


def _yaml_error(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return str(problem)
