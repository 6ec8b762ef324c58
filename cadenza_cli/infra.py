"""`cadenza infra start|stop|status|reset`: the project's own Kafka and PostgreSQL."""

from __future__ import annotations

import shutil

import typer

from infra.settings import ServiceSettings

app = typer.Typer(no_args_is_help=True, help="Start and stop the local Kafka broker and PostgreSQL server.")


@app.command()
def start() -> None:
    """Start Kafka (KRaft, one node) and PostgreSQL, create the topics, run the migrations."""
    from infra import stack

    services = stack.start(ServiceSettings())
    typer.echo(f"kafka    {services.bootstrap_servers}")
    typer.echo(f"postgres {services.database_url}")


@app.command()
def stop() -> None:
    """Stop the local services cleanly (external ones are left alone)."""
    from infra import stack

    stopped = stack.stop(ServiceSettings())
    typer.echo("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@app.command()
def status() -> None:
    from infra import stack

    for name, state in stack.status(ServiceSettings()).items():
        typer.echo(f"{name:9}{state}")


@app.command()
def reset(yes: bool = typer.Option(False, "--yes", help="really delete the local data")) -> None:
    """Stop the local services and delete their data (Kafka, PostgreSQL, the processors' local tables)."""
    from infra.kafka.broker import LocalBroker
    from infra.postgres.server import LocalPostgres

    if not yes:
        raise typer.BadParameter("this deletes all local Kafka and PostgreSQL data; pass --yes", param_hint="--yes")
    settings = ServiceSettings()
    LocalBroker.from_settings(settings).reset()
    LocalPostgres.from_settings(settings).reset()
    # the stream processors' RocksDB tables mirror changelog topics that no longer exist
    shutil.rmtree(settings.run_dir / "faust", ignore_errors=True)
    typer.echo("local services reset")
