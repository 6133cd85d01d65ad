"""`event-router consumers …`: register, inspect, change and remove consumers.

Changes go to the control-plane store; a running router picks them up within seconds. Secrets are
accepted but never printed: `show` and `list` say only whether each is set.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from event_router.cli import app
from event_router.cli.control_plane import open_store, store_errors
from event_router.cli.options import HOME
from event_router.cli.output import console, fail
from event_router.plugins.loader import missing_hooks
from event_router.routing.consumer import SECRET_FIELDS, AuthKind, Protocol
from event_router.routing.identity import Policy
from event_router.routing.presets import EventSet
from event_router.store.consumers import validate
from event_router.web.secrets_mask import mask_url

consumers_app = typer.Typer(
    no_args_is_help=True,
    help="Registered consumers: where events go, in which format, which events.",
)
app.add_typer(consumers_app, name="consumers")


def _pairs(values: list[str] | None, option: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"expected KEY=VALUE, got {value!r}", param_hint=option)
        pairs.append((key.strip(), rest))
    return pairs


def _json_value(text: str) -> Any:
    """JSON if it parses (numbers, objects, quoted strings), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _changes(
    fields: dict[str, Any], route_fields: dict[str, Many], *, header: Many, override: Many,
    sink_option: Many, match: Many, disabled: bool, events: EventSet | None,
) -> dict[str, Any]:  # fmt: skip
    """The configuration the command line sets: `fields` and `route_fields` map configuration
    field names to option values (None means not given); the rest are parsed here."""
    changes: dict[str, Any] = {
        field: value.value if hasattr(value, "value") else value
        for field, value in fields.items()
        if value is not None
    }
    if header is not None:
        changes["headers"] = dict(_pairs(header, "--header"))
    if override is not None:
        pairs = _pairs(override, "--override")
        changes["override_args"] = {key: _json_value(value) for key, value in pairs}
    if sink_option is not None:
        pairs = _pairs(sink_option, "--sink-option")
        changes["sink_options"] = {key: _json_value(value) for key, value in pairs}
    route: dict[str, Any] = {k: v for k, v in route_fields.items() if v is not None}
    if match is not None:
        params: dict[str, list[str]] = {}
        for path, regex in _pairs(match, "--match"):
            params.setdefault(path, []).append(regex)
        route["match_params"] = {k: v[0] if len(v) == 1 else v for k, v in params.items()}
    if route:
        changes["route"] = route
    if disabled:
        changes["enabled"] = False
    if events is not None:
        changes["events"] = events.value
    return changes


Many = list[str] | None


def _edit(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Consumer name: lowercase letters, digits, . _ -")],
    protocol: Annotated[Protocol | None, typer.Option(help="Format: xapi, caliper, edx.")] = None,
    sink: Annotated[
        str | None,
        typer.Option(
            help="Transport: lrs, caliper, webhook, archive, bus, kafka, stream (see "
            "docs/sinks.md; default: lrs for xapi, caliper for caliper)."
        ),
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="Endpoint URL (or archive path; none for a stream).")
    ] = None,
    auth: Annotated[AuthKind | None, typer.Option(help="none, basic or bearer.")] = None,
    username: Annotated[str | None, typer.Option(help="Basic auth user.")] = None,
    password: Annotated[str | None, typer.Option(help="Basic auth password (stored).")] = None,
    token: Annotated[str | None, typer.Option(help="Bearer token (stored).")] = None,
    signing_secret: Annotated[str | None, typer.Option(help="Webhook HMAC key (stored).")] = None,
    header: Annotated[Many, typer.Option(metavar="K=V", help="HTTP header; repeatable.")] = None,
    override: Annotated[
        Many, typer.Option(metavar="K=JSON", help="Merged into each item; repeatable.")
    ] = None,
    sink_option: Annotated[
        Many,
        typer.Option(metavar="K=JSON", help="The sink's own setting (bus: topic=…); repeatable."),
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Items per request (default: 100).")
    ] = None,
    linger: Annotated[
        float | None, typer.Option(help="Seconds to fill a batch (default: 0.02).")
    ] = None,
    max_in_flight: Annotated[
        int | None, typer.Option(help="Batches in flight; 1 keeps order (default: 1).")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(help="Request timeout, seconds (default: 10).")
    ] = None,
    identity: Annotated[
        Policy | None,
        typer.Option(
            help="How learners appear (default: anonymous). raw: protocol edx only, the event "
            "as received (user ids, ip, agent); otherwise edx events are anonymised too."
        ),
    ] = None,
    sensor_id: Annotated[str | None, typer.Option(help="Caliper sensor IRI.")] = None,
    guest_learners: Annotated[
        bool | None,
        typer.Option(
            "--guest-learners/--no-guest-learners",
            help="Events of learners not signed in get a per-session pseudonym of this "
            "consumer's own (default: no, they are skipped).",
        ),
    ] = None,
    validate_items: Annotated[
        bool | None,
        typer.Option(
            "--validate/--no-validate",
            help="Check each item against the xAPI / Caliper rules before sending; an invalid "
            "one becomes a dead letter with the reason (default: no).",
        ),
    ] = None,
    hook: Annotated[
        Many, typer.Option(help="Plugin hook to run, in order; repeatable ('' for none).")
    ] = None,
    allow: Annotated[Many, typer.Option(help="Event name or regex to allow; repeatable.")] = None,
    deny: Annotated[Many, typer.Option(help="Event name or regex to deny; repeatable.")] = None,
    course: Annotated[Many, typer.Option(help="Only this course id; repeatable.")] = None,
    org: Annotated[Many, typer.Option(help="Only this organisation; repeatable.")] = None,
    site: Annotated[Many, typer.Option(help="Only this host; repeatable.")] = None,
    user: Annotated[Many, typer.Option(help="Only this user id or username; repeatable.")] = None,
    activity_type: Annotated[
        Many,
        typer.Option(
            help="Only items about this activity type: xAPI definition.type IRI or its last "
            "segment (video, cmi.interaction), Caliper object type (VideoObject); repeatable."
        ),
    ] = None,
    match: Annotated[
        Many, typer.Option(metavar="PATH=REGEX", help="ERB match_params rule; repeatable.")
    ] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Do not deliver (yet).")] = False,
    events: Annotated[
        EventSet | None,
        typer.Option(
            help="Event-set preset written into the allow list (replacing it; --allow names are "
            "added): erb-default = ERB's default allowed events for the protocol; all = no "
            "allow list."
        ),
    ] = None,
    home: Annotated[Path | None, HOME] = None,
) -> None:
    fields = {
        "protocol": protocol, "sink": sink, "url": url, "auth": auth, "username": username,
        "password": password, "token": token, "signing_secret": signing_secret,
        "batch_size": batch_size, "linger": linger, "max_in_flight": max_in_flight,
        "timeout": timeout, "identity": identity, "sensor_id": sensor_id,
        "guest_learners": guest_learners, "validate": validate_items,
        "hooks": None if hook is None else [] if hook == [""] else hook,
    }  # fmt: skip
    route_fields = {
        "allow": allow, "deny": deny, "courses": course, "orgs": org, "sites": site,
        "users": user, "activity_types": activity_type,
    }  # fmt: skip
    changes = _changes(
        fields, route_fields, header=header, override=override, sink_option=sink_option,
        match=match, disabled=disabled, events=events,
    )  # fmt: skip
    adding = ctx.info_name == "add"
    if not adding and not changes:
        fail("nothing to change: give at least one option", 2)
    with store_errors():
        consumer = validate({"name": name, **changes}) if adding else None
        with open_store(home) as store:
            if consumer is not None:
                store.consumers.add(consumer)
            else:
                store.consumers.update(name, changes)
    typer.echo(f"{'added' if adding else 'updated'} consumer {name}")
    missing = missing_hooks(changes.get("hooks") or [])
    if missing:  # likely missing in the router too, which then refuses the consumer's events
        typer.echo(f"warning: hook(s) not installed here: {', '.join(missing)}", err=True)


consumers_app.command(
    "add",
    help="Register a consumer. Example: consumers add lrs --url https://lrs/xAPI/statements "
    "--auth basic --username U --password P --allow 'edx\\.video\\..*'",
)(_edit)
consumers_app.command(
    "update",
    help="Change a consumer: only the options given change; list options replace the list.",
)(_edit)


@consumers_app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
    home: Annotated[Path | None, HOME] = None,
) -> None:
    """Every consumer, without secrets."""
    with store_errors(), open_store(home) as store:
        records = store.consumers.records()
    if as_json:
        typer.echo(json.dumps([r.public() for r in records], indent=2))
        return
    if not records:
        typer.echo("no consumers; add one with `event-router consumers add`", err=True)
        return
    table = Table("name", "enabled", "protocol", "sink", "url", "auth", "route", "updated")
    for record in records:
        c = record.consumer
        table.add_row(
            c.name,
            "yes" if c.enabled else "no",
            c.protocol.value,
            c.sink or "",
            mask_url(c.url),
            c.auth.value,
            _route_summary(record.public()["route"]),
            record.updated_at.strftime("%Y-%m-%d %H:%M"),
        )
    console().print(table)


def _route_summary(route: dict[str, Any]) -> str:
    parts = [f"{key} {len(value)}" for key, value in route.items() if value]
    return ", ".join(parts) or "everything"


@consumers_app.command()
def show(
    name: Annotated[str, typer.Argument(help="Consumer name.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
    home: Annotated[Path | None, HOME] = None,
) -> None:
    """One consumer's configuration; secrets show only as set or unset."""
    with store_errors(), open_store(home) as store:
        data = store.consumers.record(name).public()
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        if key in SECRET_FIELDS:
            value = "set" if value else "unset"
        if isinstance(value, dict) and key == "route":
            for part, rule in value.items():
                typer.echo(f"route.{part}: {_text(rule)}")
        else:
            typer.echo(f"{key}: {_text(value)}")


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict):
        return json.dumps(value) if value else "-"
    return str(value)


@consumers_app.command()
def enable(
    name: Annotated[str, typer.Argument(help="Consumer name.")],
    home: Annotated[Path | None, HOME] = None,
) -> None:
    """Resume delivery to a consumer from where it stopped."""
    _set_enabled(name, True, home)


@consumers_app.command()
def disable(
    name: Annotated[str, typer.Argument(help="Consumer name.")],
    home: Annotated[Path | None, HOME] = None,
) -> None:
    """Stop delivering to a consumer. On `enable` it resumes where it stopped, with the events
    still in the journal: those of the retention window (EVENT_ROUTER_RETENTION_HOURS, 168 by
    default); a disabled consumer does not hold older ones back from trimming."""
    _set_enabled(name, False, home)


def _set_enabled(name: str, enabled: bool, home: Path | None) -> None:
    with store_errors(), open_store(home) as store:
        store.consumers.set_enabled(name, enabled)
    typer.echo(f"{'enabled' if enabled else 'disabled'} consumer {name}")


@consumers_app.command()
def remove(
    name: Annotated[str, typer.Argument(help="Consumer name.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    home: Annotated[Path | None, HOME] = None,
) -> None:
    """Remove a consumer and its dead letters."""
    with store_errors(), open_store(home) as store:
        store.consumers.get(name)
        if not yes:
            letters = store.dead_letters.count(consumer=name)
            typer.confirm(f"remove consumer {name} and its {letters} dead letter(s)?", abort=True)
        store.consumers.remove(name)
    typer.echo(f"removed consumer {name}")


@consumers_app.command("import")
def import_(
    file: Annotated[str, typer.Argument(metavar="FILE.yaml", help="YAML file, or - for stdin.")],
    home: Annotated[Path | None, HOME] = None,
) -> None:
    """Add or replace the consumers in a YAML file: all of them, or none if any is invalid.

    Secrets left out of the file keep their stored values; consumers not in it are untouched.
    """
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{file}: cannot read: {getattr(exc, 'strerror', None) or exc}", 2)
    with store_errors(), open_store(home) as store:
        result = store.consumers.import_yaml(text)
    for label, names in (
        ("added", result.added),
        ("updated", result.updated),
        ("unchanged", result.unchanged),
    ):
        if names:
            typer.echo(f"{label}: {', '.join(names)}")
    if not (result.added or result.updated or result.unchanged):
        typer.echo("no consumers in the file")


@consumers_app.command()
def export(
    with_secrets: Annotated[
        bool, typer.Option("--with-secrets", help="Include passwords, tokens and signing keys.")
    ] = False,
    home: Annotated[Path | None, HOME] = None,
) -> None:
    """Every consumer as YAML on standard output, for `consumers import`."""
    with store_errors(), open_store(home) as store:
        typer.echo(store.consumers.export_yaml(with_secrets), nl=False)


from event_router.cli import rewind as _rewind  # noqa: E402, F401  (registers `consumers rewind`)
