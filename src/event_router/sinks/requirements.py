"""What each sink kind needs to work, checked once when a configuration is written.

(The consumer model already holds each sink to what its registered `SinkType` says: protocols,
URL schemes, typed `sink_options`. What needs the router's surroundings, the destinations
allow-list and the archive root, or spans several fields, is checked here, by sink kind.)

A consumer that cannot work (a webhook with nothing to sign with, a bus on an `http://` URL, an
archive outside its root) is refused with one `field: message` line per problem rather than
stored and then paused at its first delivery. The store calls `problems` for every write, so the
CLI, the API, the UI and YAML import give the same answer.

- lrs: protocol xapi; an http(s)://host/… URL (the statements endpoint); auth none, basic
  (username and password) or bearer (token).
- caliper: protocol caliper; an http(s)://host/… URL; auth as for an LRS.
- webhook: any protocol; an http(s)://host/… URL; a `signing_secret`; auth optional.
- bus: any protocol; redis://host[:port][/db], rediss://… or unix://path (`topic`, `prefix`,
  `maxlen` are sink options; in the query of a URL stored earlier, `maxlen` must be an integer);
  auth basic (an ACL user) or bearer (a requirepass password); no headers.
- kafka: any protocol; kafka://broker[:port][,broker…] (or kafka:/// for the router's brokers)
  (`topic`, `prefix`, `registry`… are sink options, docs/sinks.md#kafka); auth none or basic
  (SASL); no headers. With an allow-list, every broker and the registry must be allowed.
- stream: any protocol; url `stream:` (or none); no credentials or headers: subscribers
  authenticate with API tokens bound to the consumer, and nothing is sent anywhere.
- archive: any protocol; a directory under the archive root (relative paths start there) or
  s3://bucket/prefix; no auth, token or headers (S3 uses the AWS configuration).

Everywhere: no credentials inside the URL (it is shown back; secrets go in their own fields),
and a signing secret only where something signs with it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from redis.connection import parse_url

from event_router.routing.consumer import AuthKind, Consumer
from event_router.sinks.base import SinkError
from event_router.sinks.destinations import (
    DestinationRefused,
    Destinations,
    confine_archive,
    s3_endpoint,
)

HTTP_SINKS = ("lrs", "caliper", "webhook")
BUS_SCHEMES = ("redis", "rediss", "unix")


def problems(consumer: Consumer, destinations: Destinations) -> tuple[list[str], str | None]:
    """The problems that stop the consumer from working, and its url made canonical (a local
    archive's absolute path under the root), or None when the url stays as given."""
    found: list[str] = []
    url: str | None = None
    kind = consumer.sink
    if kind in HTTP_SINKS:
        found += _http_url(consumer.url, kind or "http")
    elif kind == "bus":
        found += _bus_url(consumer.url)
        if consumer.headers:
            found.append("headers: a bus sends no HTTP headers")
    elif kind == "archive":
        archive, url = _archive(consumer, destinations)
        found += archive
    elif kind == "kafka":
        found += _kafka(consumer)
    elif kind == "stream":
        found += _stream(consumer)
    if kind == "webhook" and not consumer.signing_secret:
        found.append(
            "signing_secret: a webhook needs a signing secret, so receivers can verify requests "
            "(X-Event-Router-Signature)"
        )
    if kind != "webhook" and consumer.signing_secret:
        found.append("signing_secret: only webhooks sign requests; remove it")
    if not found and destinations.allowlist is not None and kind != "stream":
        found += _allowed(consumer, destinations)
    return found, url


def _http_url(url: str, kind: str) -> list[str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return [f"url: a {kind} sink needs an http:// or https:// URL"]
    found = _no_credentials(url)
    if not parts.hostname:
        found.append("url: names no host")
    found += _valid_port(url)
    return found


def _bus_url(url: str) -> list[str]:
    parts = urlsplit(url)
    if parts.scheme not in BUS_SCHEMES:
        return ["url: a bus sink needs a redis://, rediss:// or unix:// URL (the Redis server)"]
    found = _no_credentials(url)
    if parts.scheme != "unix" and not parts.hostname:
        found.append("url: names no host")
    if parts.scheme == "unix" and not parts.path:
        found.append("url: names no socket path")
    found += _valid_port(url)
    database = parts.path.strip("/")
    if parts.scheme != "unix" and database and not database.isdigit():
        found.append(f"url: {database!r} is not a Redis database number")
    rest = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "maxlen" and not (value.isascii() and value.isdigit()):
            found.append("url: maxlen must be an integer of 0 or more (0: no limit)")
        elif key in ("topic", "prefix") and not value.strip():
            found.append(f"url: {key} is empty")
        elif key not in ("maxlen", "topic", "prefix"):
            rest.append((key, value))
    if not found:
        try:  # what the Redis client itself makes of the rest (socket_timeout=abc, ...)
            parse_url(url.split("?", 1)[0] + (f"?{urlencode(rest)}" if rest else ""))  # type: ignore[no-untyped-call]
        except ValueError as exc:
            found.append(f"url: {exc}")
    return found


def _archive(consumer: Consumer, destinations: Destinations) -> tuple[list[str], str | None]:
    found = []
    if consumer.auth is not AuthKind.NONE or consumer.username or consumer.password:
        found.append(
            "auth: an archive takes no credentials (S3 uses the AWS configuration: "
            "AWS_ACCESS_KEY_ID, profiles or instance roles)"
        )
    if consumer.token:
        found.append("token: an archive takes no token")
    if consumer.headers:
        found.append("headers: an archive sends no HTTP headers")
    if consumer.url.startswith("s3://"):
        bucket = consumer.url.removeprefix("s3://").strip("/").split("/", 1)[0]
        if not bucket:
            found.append("url: s3:// needs a bucket: s3://bucket/prefix")
        return found, None
    if "://" in consumer.url and not consumer.url.startswith("file://"):
        return [*found, "url: an archive is a directory, file:///dir or s3://bucket/prefix"], None
    try:
        return found, confine_archive(consumer.url, destinations.archive_root)
    except ValueError as exc:
        return [*found, f"url: {exc}"], None


def _stream(consumer: Consumer) -> list[str]:
    """Subscribers authenticate with tokens bound to the consumer; it holds no credentials."""
    found = []
    if consumer.auth is not AuthKind.NONE or consumer.username or consumer.password:
        found.append(
            "auth: a stream consumer takes no credentials (its subscribers use API tokens bound "
            "to it: event-router tokens create --consumer NAME)"
        )
    if consumer.token:
        found.append("token: a stream consumer takes no token")
    if consumer.headers:
        found.append("headers: a stream consumer sends no HTTP headers")
    return found


def _kafka(consumer: Consumer) -> list[str]:
    from event_router.sinks.kafka import (
        KAFKA_PARAMETERS,
        kafka_settings,
    )  # librdkafka: Kafka users only

    found = _no_credentials(consumer.url)
    if consumer.headers:
        found.append("headers: Kafka records carry no HTTP headers")
    if consumer.auth is AuthKind.BEARER:
        found.append("auth: Kafka takes basic (a SASL user and password) or none")
    parts = urlsplit(consumer.url)
    if parts.scheme != "kafka":
        return [*found, "url: a kafka sink needs a kafka:// URL"]
    unknown = sorted(dict(parse_qsl(parts.query)))  # what `legacy_url` left: not one of ours
    if unknown:
        found.append(
            f"url: unknown parameter {unknown[0]!r} (known: {', '.join(KAFKA_PARAMETERS)})"
        )
    if parts.netloc:  # without brokers, the running router's EVENT_ROUTER_KAFKA_* settings apply
        try:
            kafka_settings(consumer)
        except SinkError as exc:
            found.append(f"url: {str(exc).split(': ', 1)[-1]}")
    return found


def _allowed(consumer: Consumer, destinations: Destinations) -> list[str]:
    allowlist = destinations.allowlist
    assert allowlist is not None
    if consumer.sink == "kafka":
        try:
            from event_router.sinks.kafka import kafka_settings, targets

            for target in targets(kafka_settings(consumer)[0]):
                allowlist.check_url(target)
        except DestinationRefused as exc:
            return [f"url: {exc}"]
        except SinkError:
            return []  # no brokers named here: the running router's own settings apply
        return []
    if consumer.sink == "archive":
        if not consumer.url.startswith("s3://"):
            return []
        target, field = s3_endpoint(), "url (the S3 endpoint)"
    else:
        target, field = consumer.url, "url"
    try:
        allowlist.check_url(target)
    except DestinationRefused as exc:
        return [f"{field}: {exc}"]
    return []


def _no_credentials(url: str) -> list[str]:
    parts = urlsplit(url)
    if parts.username or parts.password:
        return [
            "url: credentials in the URL (user:password@host) would be shown and logged with it; "
            "remove them and use the auth fields instead: --auth basic --username … --password … "
            '(API and YAML: "auth": "basic", "username", "password"; or --auth bearer --token …)'
        ]
    return []


def _valid_port(url: str) -> list[str]:
    try:
        _ = urlsplit(url).port
    except ValueError:
        return ["url: the port is not a number from 0 to 65535"]
    return []
