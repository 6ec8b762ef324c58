"""Bring the local services up and down together: Kafka (+ topics) and PostgreSQL (+ migrations).

External services given by KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL are used as they are and never
started or stopped here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from infra.kafka.broker import LocalBroker
from infra.postgres.server import LocalPostgres, wait_for
from infra.settings import PROJECT_ROOT, ServiceSettings
from infra.topics import ensure_topics


@dataclass(frozen=True)
class Services:
    bootstrap_servers: str
    database_url: str


def migrate(url: str, revision: str = "head") -> None:
    """Run Alembic migrations up to ``revision`` against ``url``."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["url"] = url
    command.upgrade(config, revision)


def start(settings: ServiceSettings, kafka: bool = True, postgres: bool = True) -> Services:
    """Start what ``settings`` say is ours (external services are used as they are), create the topics,
    run the migrations; return where the services are."""
    bootstrap = settings.bootstrap_servers
    if kafka:
        if not settings.kafka_external:
            bootstrap = LocalBroker.from_settings(settings).start()
        ensure_topics(bootstrap, settings.topics)
    url = settings.database_url
    if postgres:
        if not settings.database_external:
            url = LocalPostgres.from_settings(settings).start()
        wait_for(url)
        migrate(url)
    return Services(bootstrap, url)


def stop(settings: ServiceSettings) -> list[str]:
    stopped = []
    if not settings.kafka_external and LocalBroker.from_settings(settings).stop():
        stopped.append("kafka")
    if not settings.database_external and LocalPostgres.from_settings(settings).stop():
        stopped.append("postgres")
    return stopped


def status(settings: ServiceSettings) -> dict[str, str]:
    broker, pg = LocalBroker.from_settings(settings), LocalPostgres.from_settings(settings)
    return {
        "kafka": f"external {settings.bootstrap_servers}" if settings.kafka_external
        else (f"running on {broker.bootstrap} (pid {broker.pid()})" if broker.running() else "stopped"),
        "postgres": "external" if settings.database_external
        else (f"running on {pg.host}:{pg.port} ({pg.data_dir})" if pg.running() else "stopped"),
    }


def log_files(settings: ServiceSettings) -> list[Path]:
    return [LocalBroker.from_settings(settings).log_file, LocalPostgres.from_settings(settings).log_file]


@contextmanager
def fresh_database(server_url: str, prefix: str = "cadenza_tmp") -> Iterator[str]:
    """A new, migrated database on the server at ``server_url``, dropped on exit (tests, benchmarks)."""
    import uuid

    import sqlalchemy

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
        url = server_url.rsplit("/", 1)[0] + "/" + name
        migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
