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


class Protocol(StrEnum):
    XAPI = "xapi"
    CALIPER = "caliper"
    EDX = "edx"


class SinkKind(StrEnum):
    """How bytes reach the consumer."""

    LRS = "lrs"  # xAPI statements POSTed to an LRS
    CALIPER = "caliper"  # one Caliper envelope per request
    WEBHOOK = "webhook"  # signed JSON array
    ARCHIVE = "archive"  # gzip JSON lines, one file per hour, local or S3
    BUS = "bus"  # a Redis stream
    KAFKA = "kafka"  # a Kafka topic, event-bus framing


class AuthKind(StrEnum):
    NONE = "none"
    BASIC = "basic"
    BEARER = "bearer"


SECRET_FIELDS = ("password", "token", "signing_secret")


class Consumer(BaseModel):
    """One consumer's full configuration. Secrets are write-only outside the store."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    name: str
    protocol: Protocol = Protocol.XAPI
    sink: SinkKind | None = Field(
        default=None, description="Default: lrs for xapi, caliper for caliper."
    )
    url: str = Field(
        description="Endpoint: statements URL, Caliper endpoint, webhook, archive path/URL."
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

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("use 1-63 lowercase letters, digits, '.', '_' or '-'")
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
        if self.sink is None:
            default = {Protocol.XAPI: SinkKind.LRS, Protocol.CALIPER: SinkKind.CALIPER}
            object.__setattr__(self, "sink", default.get(self.protocol, SinkKind.WEBHOOK))
        if self.sink is SinkKind.LRS and self.protocol is not Protocol.XAPI:
            raise ValueError("an LRS sink takes protocol xapi")
        if self.sink is SinkKind.CALIPER and self.protocol is not Protocol.CALIPER:
            raise ValueError("a Caliper sink takes protocol caliper")
        if self.sink in (SinkKind.LRS, SinkKind.CALIPER, SinkKind.WEBHOOK) and not (
            self.url.startswith(("http://", "https://"))
        ):
            raise ValueError(f"url must be http(s) for a {self.sink.value} sink")
        if self.auth is AuthKind.BASIC and not (self.username and self.password is not None):
            raise ValueError("basic auth needs username and password")
        if self.auth is AuthKind.BEARER and not self.token:
            raise ValueError("bearer auth needs a token")
        if self.identity is Policy.RAW and self.protocol is not Protocol.EDX:
            raise ValueError("identity raw is for protocol edx (xAPI and Caliper name an actor)")
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
