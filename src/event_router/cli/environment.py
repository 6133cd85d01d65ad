"""The environment variables `event-router run` honours, listed in its `--help`.

The list is made from `Settings` itself, so a setting added there is shown without anyone having
to remember this page; the command's own options show their variables beside them.
"""

from __future__ import annotations

from event_router.settings import Settings


def variable(name: str) -> str:
    """The environment variable of the setting `name`."""
    alias = Settings.model_fields[name].validation_alias
    if isinstance(alias, str):
        return alias
    return f"{Settings.model_config.get('env_prefix', '')}{name}".upper()


def epilog() -> str:
    """Every setting's variable with what it does, as a `--help` epilog kept as written."""
    rows = [
        (variable(name), field.description or "") for name, field in Settings.model_fields.items()
    ]
    width = max(len(var) for var, _ in rows)
    lines = [f"  {var.ljust(width)}  {text}" for var, text in rows]
    # "\b" keeps click from re-wrapping the paragraph into one run of text
    return "\b\nEnvironment (docs/configuration.md has every detail):\n" + "\n".join(lines)
