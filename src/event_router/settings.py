"""Settings shared by every command: environment variables (`EVENT_ROUTER_*`), overridable by flags.

The data directory (`EVENT_ROUTER_HOME`) holds the databases and the secret key that anonymous
learner ids are derived from; the same home and settings give the same output from `transform`
and from the running router, byte for byte.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Router-wide settings; see `docs/configuration.md` for every variable."""

    model_config = SettingsConfigDict(env_prefix="EVENT_ROUTER_", extra="ignore")

    home: Path = Field(default=Path("event-router-data"), description="Data directory.")
    secret_key: str | None = Field(
        default=None,
        description="Key for derived anonymous ids and signatures; generated in the home if unset.",
    )
    lms_url: str = Field(
        default="http://localhost:18000",
        description="The LMS root URL used in actor and object IRIs (ERB's LMS_ROOT_URL).",
    )
    sites: str | None = Field(
        default=None,
        description="Several sites, one router: a JSON list of {lms_url, hosts, orgs, users} "
        "(docs/multi-site.md); read by every translating process from the environment.",
    )
    database_url: str | None = Field(
        default=None,
        description="Control-plane database, postgresql+psycopg://…; default: home/control.db.",
    )

    ingest_token: str | None = Field(
        default=None,
        description="Bearer token required by POST /api/v1/events (refused if unset, unless open).",
    )
    ingest_open: bool = Field(
        default=False,
        description="Take POST /api/v1/events without a token (`run --ingest-open`): anyone "
        "who can reach the port can add events.",
    )
    listen: str = Field(default="127.0.0.1:8400", description="HOST:PORT of the HTTP server.")
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, description="Ingest body limit.")
    retention_hours: float = Field(
        default=168.0, ge=0, description="Keep delivered events this long for replay."
    )
    translation_workers: int = Field(
        default_factory=lambda: min(4, (os.cpu_count() or 1) - 1),
        ge=0,
        le=64,
        description="Processes translating for the router (0: in the main process).",
    )
    journal_sync: str = Field(
        default="FULL", description="SQLite synchronous mode of the journal: FULL or NORMAL."
    )
    # Scale-out (docs/scaling.md): the journal as a Redis stream shared by N router processes.
    journal_url: str | None = Field(
        default=None,
        validation_alias="EVENT_ROUTER_JOURNAL",
        description="redis://host:port/db or kafka://host:port[/prefix]: the journal on Redis "
        "or Kafka, shared by N router processes (docs/scaling.md).",
    )
    journal_prefix: str = Field(
        default="event-router", min_length=1, description="Key prefix of the Redis journal."
    )
    journal_partitions: int = Field(
        default=12,
        ge=1,
        le=1024,
        description="Partitions of a new Kafka journal topic (the most processes sharing it).",
    )
    journal_key: str = Field(
        default="learner",
        pattern="^(learner|course|none)$",
        description="What keys Kafka journal records (order is kept per key): learner, course "
        "or none.",
    )
    member: str | None = Field(
        default=None,
        description="This process's name in the consumer groups; default: host name and pid.",
    )
    # The admin UI (docs/web.md): sessions, and the proxies whose forwarded headers count.
    session_idle_minutes: float = Field(
        default=30.0, gt=0, description="A web session unused this long ends (minutes)."
    )
    trusted_proxies: str = Field(
        default="127.0.0.1",
        description="Proxy addresses/CIDRs (comma-separated, or *) whose X-Forwarded-* count.",
    )
    claim_idle: float = Field(
        default=30.0, gt=0, description="Seconds before a silent process's pending work is claimed."
    )
    # Privacy (docs/privacy.md): fields no consumer ever needs, dropped before the journal.
    drop_fields: str = Field(
        default="",
        description="Comma-separated dotted paths on the normalised event dropped at ingest, "
        "e.g. ip,agent,context.client_id (a path not under context. or data. is in context).",
    )
    # Where consumers may send (docs/configuration.md, "Destinations").
    allowed_destinations: str | None = Field(
        default=None,
        description="Comma-separated hosts, *.domains and CIDRs sinks may reach (unset: any).",
    )
    archive_root: Path | None = Field(
        default=None, description="Directory local archives must be under; default: home/archives."
    )

    @field_validator("lms_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL, e.g. https://lms.example.com")
        return value

    @field_validator("sites")
    @classmethod
    def _sites(cls, value: str | None) -> str | None:
        from event_router.routing.sites import SitesError, parse

        try:
            parse(value)
        except SitesError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        for part in (p.strip() for p in value.split(",")):
            if part and part != "*":
                try:
                    ipaddress.ip_network(part, strict=False)
                except ValueError:
                    raise ValueError(
                        f"{part!r} is not an IP address or network: use addresses and CIDRs "
                        "such as 10.0.0.5, 10.0.0.0/8, separated by commas, or *"
                    ) from None
        return value

    @field_validator("ingest_token")
    @classmethod
    def _token_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError(
                "EVENT_ROUTER_INGEST_TOKEN is set but empty: give it a secret value (e.g. "
                "`openssl rand -hex 32`), or unset it (ingest is then refused unless the router "
                "runs with --ingest-open)"
            )
        return value

    @field_validator("journal_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        value = value.strip()
        if not value.startswith(("redis://", "rediss://", "unix://", "kafka://")):
            raise ValueError(
                "EVENT_ROUTER_JOURNAL must be a redis://, rediss://, unix:// or kafka:// URL "
                "(leave it unset for the embedded SQLite journal)"
            )
        return value

    @field_validator("drop_fields")
    @classmethod
    def _drop_fields(cls, value: str) -> str:
        from event_router.privacy.screen import DropFieldsError, parse_drop_fields

        try:
            parse_drop_fields(value)
        except DropFieldsError as exc:
            raise ValueError(f"EVENT_ROUTER_DROP_FIELDS: {exc}") from None
        return value

    def drop_paths(self) -> tuple[tuple[str, ...], ...]:
        """`drop_fields` as paths on the normalised event (see `privacy.screen`)."""
        from event_router.privacy.screen import parse_drop_fields

        return parse_drop_fields(self.drop_fields)

    @field_validator("allowed_destinations")
    @classmethod
    def _allowlist(cls, value: str | None) -> str | None:
        from event_router.sinks.destinations import Allowlist  # it reads Settings itself

        if value is not None and value.strip():
            try:
                Allowlist.parse(value)
            except ValueError as exc:
                raise ValueError(f"EVENT_ROUTER_ALLOWED_DESTINATIONS: {exc}") from None
        return value

    def has_store(self) -> bool:
        """Whether there is a control plane to read: a configured server or the home's file."""
        return bool(self.database_url) or (self.home / "control.db").is_file()

    def resolved_secret(self, accept_new: bool = False) -> str:
        """The secret key: from the environment, else from the home, created there on first use;
        SecretKeyMismatch if it is not the key the home was used with (see secret_key.py)."""
        from event_router.secret_key import resolve

        return resolve(self.home, self.secret_key, accept_new)
