"""Session fixtures for the real Kafka broker and PostgreSQL server, and per-test isolation."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from infra.settings import ServiceSettings
from infra.topics import Topics


@pytest.fixture(scope="session")
def bootstrap_servers() -> Iterator[str]:
    """The real broker: the project's own KRaft cluster (one node, or CADENZA_KAFKA_BROKERS; started
    once, stopped at the end) or an external one."""
    settings = ServiceSettings()
    if settings.kafka_external:
        yield settings.bootstrap_servers
        return
    from infra.kafka.cluster import LocalCluster

    yield from _own_service(LocalCluster.from_settings(settings))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of the maintenance database of the real server (the project's own, or DATABASE_URL)."""
    settings = ServiceSettings()
    if settings.database_external:
        yield settings.database_url
        return
    from infra.postgres.server import LocalPostgres

    server = LocalPostgres.from_settings(settings)
    was_running = server.running()
    yield server.start()
    if not was_running and not os.environ.get("CADENZA_KEEP_SERVICES"):
        server.stop()


@pytest.fixture(scope="session")
def database_url(postgres_server: str) -> Iterator[str]:
    """A fresh database for this test session, migrated to head, dropped at the end."""
    from infra.stack import fresh_database

    with fresh_database(postgres_server, "cadenza_test") as url:
        yield url


@pytest.fixture
def topic_prefix(bootstrap_servers: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Fresh copies of every declared topic for this test, under a unique prefix."""
    from infra.topics import ensure_topics

    prefix = f"t{uuid.uuid4().hex[:8]}."
    ensure_topics(bootstrap_servers, Topics(prefix))
    monkeypatch.setenv("CADENZA_TOPIC_PREFIX", prefix)
    return prefix


@pytest.fixture
def group_id() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def topics(topic_prefix: str) -> Topics:
    """The declared topics under this test's fresh prefix."""
    return Topics(topic_prefix)


def _own_service(service) -> Iterator[str]:
    """Start one of the project's own servers for the session (unless it runs already) and stop it after."""
    was_running = service.running()
    yield service.start()
    if not was_running and not os.environ.get("CADENZA_KEEP_SERVICES"):
        service.stop()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The real S3 server: the project's own S3Proxy, or CADENZA_S3_ENDPOINT."""
    if os.environ.get("CADENZA_S3_ENDPOINT"):
        yield os.environ["CADENZA_S3_ENDPOINT"]
        return
    from infra.s3proxy.server import LocalS3Proxy

    yield from _own_service(LocalS3Proxy.from_settings(ServiceSettings()))


@pytest.fixture(scope="session")
def registry_url() -> Iterator[str]:
    """The real schema registry's Confluent-compatible API: our own Apicurio, or CADENZA_SCHEMA_REGISTRY_URL."""
    if os.environ.get("CADENZA_SCHEMA_REGISTRY_URL"):
        yield os.environ["CADENZA_SCHEMA_REGISTRY_URL"]
        return
    from infra.registry.server import LocalRegistry

    yield from _own_service(LocalRegistry.from_settings(ServiceSettings()))
