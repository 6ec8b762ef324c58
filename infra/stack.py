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
from infra.settings import PROJECT_ROOT, DatabaseSettings, KafkaSettings
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


def start(kafka: bool = True, postgres: bool = True) -> Services:
    kafka_settings, db_settings = KafkaSettings(), DatabaseSettings()
    bootstrap = kafka_settings.bootstrap_servers
    if kafka:
        if not kafka_settings.external:
            bootstrap = LocalBroker().start()
        ensure_topics(bootstrap)
    url = db_settings.url
    if postgres:
        if not db_settings.external:
            url = LocalPostgres().start()
        wait_for(url)
        migrate(url)
    return Services(bootstrap, url)


def stop() -> list[str]:
    stopped = []
    if not KafkaSettings().external and LocalBroker().stop():
        stopped.append("kafka")
    if not DatabaseSettings().external and LocalPostgres().stop():
        stopped.append("postgres")
    return stopped


def status() -> dict[str, str]:
    kafka_settings, db_settings = KafkaSettings(), DatabaseSettings()
    broker, pg = LocalBroker(), LocalPostgres()
    return {
        "kafka": f"external {kafka_settings.bootstrap_servers}" if kafka_settings.external
        else (f"running on {broker.bootstrap} (pid {broker.pid()})" if broker.running() else "stopped"),
        "postgres": "external" if db_settings.external
        else (f"running on {pg.host}:{pg.port} ({pg.data_dir})" if pg.running() else "stopped"),
    }


def log_files() -> list[Path]:
    return [LocalBroker().log_file, LocalPostgres().log_file]


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
