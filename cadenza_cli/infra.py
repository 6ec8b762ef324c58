"""`cadenza infra start|stop|status|reset`: the project's own Kafka, PostgreSQL and (for artifacts in
object storage) S3Proxy."""

from __future__ import annotations

import shutil

import typer

from infra.settings import ServiceSettings

app = typer.Typer(no_args_is_help=True, help="Start and stop the local Kafka cluster, PostgreSQL and S3Proxy.")


def settings_with(brokers: int | None) -> ServiceSettings:
    """The settings from the environment, with ``--brokers`` in place of CADENZA_KAFKA_BROKERS when given."""
    return ServiceSettings(kafka_brokers=brokers) if brokers else ServiceSettings()


@app.command()
def start(brokers: int = typer.Option(None, "--brokers", min=1, max=9,
                                      help="Kafka nodes (default CADENZA_KAFKA_BROKERS or 1); 3: replicated")) -> None:
    """Start Kafka (KRaft), PostgreSQL (and S3Proxy when CADENZA_ARTIFACT_STORE=s3), create the topics,
    run the migrations."""
    from infra import stack

    settings = settings_with(brokers)
    services = stack.start(settings)
    typer.echo(f"kafka    {services.bootstrap_servers} (replication factor {settings.replication_factor})")
    typer.echo(f"postgres {services.database_url}")
    if settings.s3proxy_wanted:
        typer.echo(f"s3proxy  {settings.s3.endpoint} bucket {settings.s3_bucket}")
    if settings.kafka_brokers > 1 and not settings.kafka_external:
        typer.echo(f"every other command needs CADENZA_KAFKA_BROKERS={settings.kafka_brokers} too "
                   "(export it, or KAFKA_BOOTSTRAP_SERVERS with the list above)", err=True)


@app.command()
def stop() -> None:
    """Stop the local services cleanly (every local Kafka cluster found; external ones are left alone)."""
    from infra import stack

    stopped = stack.stop(ServiceSettings())
    typer.echo("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@app.command()
def status(brokers: int = typer.Option(None, "--brokers", min=1, max=9, help="the cluster size to report on")) -> None:
    """Each service: running (where, pid), stopped, degraded (some nodes down) or external."""
    from infra import stack

    for name, state in stack.status(settings_with(brokers)).items():
        typer.echo(f"{name:9}{state}")


@app.command()
def reset(yes: bool = typer.Option(False, "--yes", help="really delete the local data")) -> None:
    """Stop the local services and delete their data (Kafka, PostgreSQL, S3Proxy, the processors' local tables)."""
    from infra.kafka.cluster import LocalCluster
    from infra.postgres.server import LocalPostgres
    from infra.s3proxy.server import LocalS3Proxy

    if not yes:
        raise typer.BadParameter("this deletes all local Kafka, PostgreSQL and S3Proxy data; pass --yes",
                                 param_hint="--yes")
    settings = ServiceSettings()
    for cluster in LocalCluster.found(settings):
        cluster.reset()
    LocalPostgres.from_settings(settings).reset()
    LocalS3Proxy.from_settings(settings).reset()
    # the stream processors' RocksDB tables mirror changelog topics that no longer exist
    shutil.rmtree(settings.run_dir / "faust", ignore_errors=True)
    typer.echo("local services reset")
