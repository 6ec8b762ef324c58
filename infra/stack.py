"""Bring the local services up and down together: Kafka (+ topics), PostgreSQL (+ migrations) and,
when artifacts go to object storage with no endpoint of its own, S3Proxy (+ the bucket).

External services given by KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL / CADENZA_S3_ENDPOINT are used as
they are and never started or stopped here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from infra.kafka.cluster import LocalCluster
from infra.postgres.server import LocalPostgres, wait_for
from infra.s3proxy.server import LocalS3Proxy
from infra.settings import PROJECT_ROOT, ServiceSettings
from infra.topics import ensure_topics


@dataclass(frozen=True)
class Services:
    bootstrap_servers: str
    database_url: str


@dataclass(frozen=True)
class LocalService:
    """One of our own server processes as a supervisor sees it: is it alive, start it again."""

    name: str
    pid: Callable[[], int | None]
    """The live process's pid, None if it is gone (a zombie or a recycled pid is gone)."""
    start: Callable[[], object]
    """Start it if it is not running and wait until it answers."""
    stop: Callable[[], object]


def local_services(settings: ServiceSettings) -> list[LocalService]:
    """Our own servers that ``settings`` use (each Kafka node, PostgreSQL, S3Proxy); external ones are not ours."""
    services = []
    if not settings.kafka_external:
        cluster = LocalCluster.from_settings(settings)
        for node in cluster.nodes:
            name = "kafka" if cluster.size == 1 else f"kafka node {node.node_id}"
            services.append(LocalService(name, node.pid, partial(cluster.start_node, node.node_id), node.stop))
    if not settings.database_external:
        pg = LocalPostgres.from_settings(settings)
        services.append(LocalService("postgres", pg.pid, pg.start, pg.stop))
    if settings.s3proxy_wanted:
        proxy = LocalS3Proxy.from_settings(settings)
        services.append(LocalService("s3proxy", proxy.process.pid, proxy.start, proxy.stop))
    return services


def migrate(url: str, revision: str = "head") -> None:
    """Run Alembic migrations up to ``revision`` against ``url``."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["url"] = url
    command.upgrade(config, revision)


def start(settings: ServiceSettings, kafka: bool = True, postgres: bool = True, s3: bool = True) -> Services:
    """Start what ``settings`` say is ours (external services are used as they are), create the topics,
    run the migrations, create the bucket; return where the services are."""
    bootstrap = settings.bootstrap_servers
    if s3 and settings.s3proxy_wanted:
        LocalS3Proxy.from_settings(settings).start()
    if kafka:
        if not settings.kafka_external:
            bootstrap = LocalCluster.from_settings(settings).start()
        ensure_topics(bootstrap, settings.topics)
    url = settings.database_url
    if postgres:
        if not settings.database_external:
            url = LocalPostgres.from_settings(settings).start()
        wait_for(url)
        migrate(url)
    return Services(bootstrap, url)


def stop(settings: ServiceSettings) -> list[str]:
    """Stop our own services that run (every local cluster found, whatever the settings' size)."""
    stopped = []
    if not settings.kafka_external:
        for cluster in LocalCluster.found(settings):
            if cluster.stop():
                stopped.append("kafka" if cluster.size == 1 else f"kafka ({cluster.size} nodes)")
    if not settings.database_external and LocalPostgres.from_settings(settings).stop():
        stopped.append("postgres")
    if LocalS3Proxy.from_settings(settings).stop():
        stopped.append("s3proxy")
    return stopped


def status(settings: ServiceSettings) -> dict[str, str]:
    """One line per service the settings use (and any other local cluster that runs): where it runs
    and its pid, ``stopped``, or ``external``."""
    result = {}
    if settings.kafka_external:
        result["kafka"] = f"external {settings.bootstrap_servers}"
    else:
        wanted = LocalCluster.from_settings(settings)
        others = [c for c in LocalCluster.found(settings) if c.size != wanted.size and any(n.pid() for n in c.nodes)]
        for cluster in (wanted, *others):
            nodes = cluster.status()
            state = "running" if cluster.running() else "stopped" if all(n.endswith("stopped") for n in nodes) \
                else "degraded"
            result["kafka" if cluster.size == 1 else f"kafka-{cluster.size}"] = \
                state if state == "stopped" and cluster.size == 1 else f"{state}: " + "; ".join(nodes)
    pg = LocalPostgres.from_settings(settings)
    result["postgres"] = "external" if settings.database_external else (
        f"running on {pg.host}:{pg.port} (pid {pg.pid()}, {pg.data_dir})" if pg.running() else "stopped")
    s3proxy = LocalS3Proxy.from_settings(settings)
    if settings.artifact_store == "s3" and not settings.s3proxy_wanted:
        result["s3"] = f"external {settings.s3.endpoint or 'AWS'}"
    elif settings.s3proxy_wanted or s3proxy.process.pid() is not None:
        result["s3proxy"] = (f"running on {s3proxy.endpoint} (pid {s3proxy.process.pid()})" if s3proxy.running()
                             else "stopped")
    return result


def log_files(settings: ServiceSettings) -> list[Path]:
    files = [*LocalCluster.from_settings(settings).log_files(), LocalPostgres.from_settings(settings).log_file]
    if settings.s3proxy_wanted:
        files.append(LocalS3Proxy.from_settings(settings).process.log_file)
    return files


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
