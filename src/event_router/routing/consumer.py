"""A registered consumer: what it speaks, where it lives, what it may see, how it wants delivery."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from event_router.routing.identity import Policy
from event_router.routing.presets import PresetError, expand_events
from event_router.routing.route import Route

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
_HOOK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class Protocol(StrEnum):
    XAPI = "xapi"
    CALIPER = "caliper"
    EDX = "edx"


class AuthKind(StrEnum):
    NONE = "none"
    BASIC = "basic"
    BEARER = "bearer"


SECRET_FIELDS = ("password", "token", "signing_secret")


class Consumer(BaseModel):
    """One consumer's full configuration. Secrets are write-only outside the store."""

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, validate_by_name=True, serialize_by_alias=True
    )

    name: str
    protocol: Protocol = Protocol.XAPI
    sink: str | None = Field(
        default=None,
        description="How bytes reach the consumer (a kind of `sinks.registry`): lrs, caliper, "
        "webhook, archive, bus, ... Default: lrs for xapi, caliper for caliper, else webhook.",
    )
    url: str = Field(
        description="Endpoint: statements URL, Caliper endpoint, webhook, archive path/URL."
    )
    sink_options: dict[str, Any] = Field(
        default_factory=dict,
        description="The sink's own settings, as its kind defines them (bus: topic, prefix).",
    )
    auth: AuthKind = AuthKind.NONE
    username: str | None = None
    password: str | None = Field(default=None, repr=False)
    token: str | None = Field(default=None, repr=False)
    signing_secret: str | None = Field(
        default=None, repr=False, description="Webhook HMAC-SHA256 key."
    )
    headers: dict[str, str] = Field(default_factory=dict)
    override_args: dict[str, Any] = Field(
        default_factory=dict,
        description="Merged at the root of each statement (envelope for Caliper).",
    )
    batch_size: int = Field(default=100, ge=1, le=10_000)
    linger: float = Field(default=0.02, ge=0, le=60, description="Seconds to wait to fill a batch.")
    max_in_flight: int = Field(default=1, ge=1, le=64, description="1 keeps delivery in order.")
    timeout: float = Field(default=10.0, gt=0, le=300)
    enabled: bool = True
    identity: Policy = Policy.ANONYMOUS
    guest_learners: bool = Field(
        default=False,
        description="Translate events of no learner (not signed in) with a per-session "
        "pseudonymous actor of this consumer's own; refused otherwise.",
    )
    sensor_id: str | None = Field(default=None, description="Caliper sensor IRI.")
    hooks: list[str] = Field(
        default_factory=list,
        description="Plugin hooks (entry points `event_router.hooks`) run for this consumer, "
        "in this order, around each translation; see docs/plugins.md.",
    )
    validate_items: bool = Field(
        default=False,
        alias="validate",
        description="Check each item against the xAPI 1.0.3 / Caliper 1.2 rules before "
        "sending; an invalid one becomes a dead letter with the reason.",
    )
    route: Route = Field(default_factory=Route)

    @model_validator(mode="before")
    @classmethod
    def _events_preset(cls, data: Any) -> Any:
        """`events: erb-default` (a preset, see routing.presets) written out as `route.allow`."""
        if not isinstance(data, dict) or "events" not in data:
            return data
        try:
            return expand_events(data)
        except PresetError as exc:
            raise ValueError(f"events: {exc}") from None

    @model_validator(mode="before")
    @classmethod
    def _stream_url(cls, data: Any) -> Any:
        """A stream consumer reaches nothing (subscribers read it): its url may be left out."""
        if isinstance(data, dict) and data.get("sink") == "stream" and not data.get("url"):
            return {**data, "url": "stream:"}
        return data

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("use 1-63 lowercase letters, digits, '.', '_' or '-'")
        return value

    @field_validator("hooks")
    @classmethod
    def _hooks(cls, value: list[str]) -> list[str]:
        for name in value:
            if not _HOOK.match(name):
                raise ValueError(f"{name!r} is not a hook name (an entry point name)")
        if len(set(value)) != len(value):
            raise ValueError("a hook is listed twice")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("is required")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Consumer:
        from event_router.sinks.registry import sink_type  # sinks know consumers: import late

        if self.sink is None:
            default = {Protocol.XAPI: "lrs", Protocol.CALIPER: "caliper"}
            object.__setattr__(self, "sink", default.get(self.protocol, "webhook"))
        kind = sink_type(str(self.sink))
        if kind.legacy_url is not None:
            # Stored before sink options existed: settings in the URL's query string move out.
            url, moved = kind.legacy_url(self.url)
            if moved:
                object.__setattr__(self, "url", url)
                object.__setattr__(self, "sink_options", {**moved, **self.sink_options})
        object.__setattr__(self, "sink_options", kind.validate(self))
        if self.auth is AuthKind.BASIC and not (self.username and self.password is not None):
            raise ValueError("basic auth needs username and password")
        if self.auth is AuthKind.BEARER and not self.token:
            raise ValueError("bearer auth needs a token")
        if self.identity is Policy.RAW and self.protocol is not Protocol.EDX:
            raise ValueError("identity raw is for protocol edx (xAPI and Caliper name an actor)")
        if self.protocol is Protocol.EDX and (self.hooks or self.validate_items):
            raise ValueError(
                "hooks and validate work on xAPI or Caliper translations: not for protocol edx"
            )
        if self.route.activity_types and self.protocol is Protocol.EDX:
            raise ValueError(
                "route.activity_types filters xAPI or Caliper translations: not for protocol edx"
            )
        return self

    def public(self) -> dict[str, Any]:
        """The configuration without secret values: each secret shows only whether it is set."""
        data = self.model_dump(mode="json")
        for field in SECRET_FIELDS:
            data[field] = "set" if data.get(field) else None
        return data
