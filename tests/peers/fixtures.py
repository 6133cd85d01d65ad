"""Pytest fixtures for the real test peers; list "tests.peers.fixtures" in `pytest_plugins`.

- `receiver`: a scriptable HTTP endpoint (LRS / Caliper / webhook), reset for each test; the
  server itself is shared by the session (`receiver_server`).
- `ralph`: a real Ralph LRS with basic auth, shared by the session; tests use fresh statement ids.
- `tansu`, `schema_registry`, `kafka_bus`: a real Kafka-protocol broker (Tansu) and a stand-in
  Confluent schema registry, shared by the session; `kafka_bus` gives each test a topic prefix
  (tests/peers/kafka.py).
- `moto_s3`: a real S3 API (moto) shared by the session; `s3_bucket` gives each test its own
  bucket and sets the AWS_* environment the archive sink reads.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.peers.kafka import kafka_bus, schema_registry, schema_registry_server, tansu
from tests.peers.ralph import Ralph
from tests.peers.receiver import Receiver
from tests.peers.s3 import MotoS3


@pytest.fixture(scope="session")
def receiver_server() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.up()
    yield receiver
    receiver.down()


@pytest.fixture
def receiver(receiver_server: Receiver) -> Iterator[Receiver]:
    receiver_server.reset()
    receiver_server.up()  # a previous test may have left it down
    yield receiver_server
    receiver_server.reset()


@pytest.fixture(scope="session")
def ralph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ralph]:
    lrs = Ralph(tmp_path_factory.mktemp("ralph"))
    lrs.start()
    yield lrs
    lrs.stop()


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    server = MotoS3()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3_bucket(moto_s3: MotoS3, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new empty bucket; the AWS_* variables point at moto for the test's duration."""
    for key, value in moto_s3.env.items():
        monkeypatch.setenv(key, value)
    return moto_s3.create_bucket(f"archive-{uuid.uuid4().hex[:12]}")


__all__ = ["kafka_bus", "schema_registry", "schema_registry_server", "tansu"]
