"""`cadenza run api|relay|projector|analytics|sweeper`: one of the stack's own processes in the foreground."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="Run one of the stack's own processes in the foreground.")


@app.command("api")
def run_api(host: str = typer.Option(None, help="default CADENZA_API_HOST or 127.0.0.1"),
            port: int = typer.Option(None, help="default CADENZA_API_PORT or 8000"),
            workers: int = typer.Option(1, help="uvicorn worker processes")) -> None:
    """The HTTP API (uvicorn)."""
    import uvicorn

    from api.settings import ApiSettings

    settings = ApiSettings()
    uvicorn.run("api.app:create_app", factory=True, host=host or settings.host, port=port or settings.port,
                workers=workers, log_level="warning", access_log=False)


@app.command("relay")
def run_relay() -> None:
    """The outbox relay (PostgreSQL outbox -> Kafka)."""
    from producers.outbox_relay import main

    main()


@app.command("projector")
def run_projector() -> None:
    """The projector (compositions.events -> the read model)."""
    from stream_processors.projector import main

    main()


@app.command("analytics")
def run_analytics() -> None:
    """The analytics consumer (events, requests, ratings -> its own tables, served at /api/v2/analytics)."""
    from stream_processors.analytics.consumer import main

    main()


@app.command("sweeper")
def run_sweeper() -> None:
    """The retention sweeper (sent outbox rows, old event logs, unreferenced artifacts; see README Retention)."""
    from retention.sweeper import main

    main()
