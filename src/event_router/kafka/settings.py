"""How the router reaches Kafka and its schema registry: one place for every Kafka client.

The Kafka source, the Kafka sink (and a Kafka journal) build their librdkafka clients from these
settings, so security options are written once. The names follow edx-event-bus-kafka's settings
(bootstrap servers, SASL over TLS, registry API key and secret) so an operator can copy the LMS's
values. Secrets are `SecretStr`: they never appear in a repr, a log line or an error message.
"""

from __future__ import annotations

import socket
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


class KafkaSettings(BaseSettings):
    """`EVENT_ROUTER_KAFKA_*` and `EVENT_ROUTER_SCHEMA_REGISTRY_*` (docs/configuration.md)."""

    model_config = SettingsConfigDict(env_prefix="EVENT_ROUTER_", extra="ignore")

    kafka_bootstrap_servers: str | None = Field(
        default=None,
        description="HOST:PORT[,HOST:PORT…] (the LMS's EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS).",
    )
    kafka_security_protocol: str = Field(
        default="PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."
    )
    kafka_sasl_mechanism: str = Field(
        default="PLAIN", description="PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (with SASL_*)."
    )
    kafka_sasl_username: str | None = Field(default=None, description="SASL user (API key).")
    kafka_sasl_password: SecretStr | None = Field(
        default=None, description="SASL password (API secret)."
    )
    kafka_ssl_ca_location: str | None = Field(
        default=None, description="CA bundle to verify the brokers (default: the system's)."
    )
    kafka_session_timeout: float = Field(
        default=45.0, ge=1, le=3600, description="Seconds before a silent group member is dropped."
    )
    schema_registry_url: str | None = Field(
        default=None, description="Confluent schema registry (EVENT_BUS_KAFKA_SCHEMA_REGISTRY_URL)."
    )
    schema_registry_username: str | None = Field(
        default=None, description="Registry API key (basic auth user)."
    )
    schema_registry_password: SecretStr | None = Field(
        default=None, description="Registry API secret (basic auth password)."
    )

    @field_validator("kafka_security_protocol", "kafka_sasl_mechanism")
    @classmethod
    def _known(cls, value: str, info: Any) -> str:
        value = value.strip().upper()
        allowed = (
            SECURITY_PROTOCOLS if info.field_name == "kafka_security_protocol" else SASL_MECHANISMS
        )
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value

    @field_validator("kafka_bootstrap_servers", "schema_registry_url")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value else None

    def client_config(self, **extra: Any) -> dict[str, Any]:
        """librdkafka settings shared by consumers and producers (`extra` added last).

        Raises ValueError when no bootstrap servers are set."""
        if not self.kafka_bootstrap_servers:
            raise ValueError(
                "no Kafka brokers: set EVENT_ROUTER_KAFKA_BOOTSTRAP_SERVERS "
                "or --kafka-bootstrap-servers"
            )
        config: dict[str, Any] = {
            "bootstrap.servers": self.kafka_bootstrap_servers,
            "client.id": f"event-router@{socket.gethostname()}",
            "security.protocol": self.kafka_security_protocol,
        }
        if self.kafka_security_protocol.startswith("SASL_"):
            if not self.kafka_sasl_username or self.kafka_sasl_password is None:
                raise ValueError(
                    f"security protocol {self.kafka_security_protocol} needs "
                    "EVENT_ROUTER_KAFKA_SASL_USERNAME and EVENT_ROUTER_KAFKA_SASL_PASSWORD"
                )
            config["sasl.mechanism"] = self.kafka_sasl_mechanism
            config["sasl.username"] = self.kafka_sasl_username
            config["sasl.password"] = self.kafka_sasl_password.get_secret_value()
        if self.kafka_ssl_ca_location:
            config["ssl.ca.location"] = self.kafka_ssl_ca_location
        config.update(extra)
        return config

    def consumer_config(self, group: str, **extra: Any) -> dict[str, Any]:
        """A group member that commits by hand, after the journal holds what it read, and
        starts a new group at the oldest record (the backlog is wanted, never skipped)."""
        session_ms = int(self.kafka_session_timeout * 1000)
        return self.client_config(
            **{
                "group.id": group,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": session_ms,
                "heartbeat.interval.ms": max(100, session_ms // 6),
                **extra,
            }
        )

    def producer_config(self, **extra: Any) -> dict[str, Any]:
        """An idempotent producer (no duplicates from its own retries; order kept per
        partition) that hashes keys like the Java client, so every client agrees on
        which partition a key goes to."""
        return self.client_config(
            **{
                "enable.idempotence": True,
                "acks": "all",
                "partitioner": "murmur2_random",
                "linger.ms": 5,
                **extra,
            }
        )

    def registry_auth(self) -> tuple[str, str] | None:
        """Basic-auth credentials for the registry, when set."""
        if self.schema_registry_username and self.schema_registry_password is not None:
            return self.schema_registry_username, self.schema_registry_password.get_secret_value()
        return None
