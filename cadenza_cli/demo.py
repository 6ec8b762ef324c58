"""`cadenza demo` (what `make demo` runs): bring the stack up in the background, compose a song through
the API the way a user would, download it, say where the files are, stop the stack."""

from __future__ import annotations

import threading
from pathlib import Path

import typer

from cadenza_cli.supervisor import Child, Supervisor
from cadenza_cli.up import (
    services_were_running,
    stack_environment,
    start_processes,
    wait_for_api,
)
from infra.settings import ServiceSettings


class Watchdog:
    """Ends a wait on the API (by closing its client) as soon as one of the stack's processes dies."""

    def __init__(self, supervisor: Supervisor, http) -> None:
        self.supervisor, self.http, self.dead = supervisor, http, None
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stopped.wait(1.0):
            dead = self.supervisor.exited()
            if dead is not None:
                self.dead = dead
                self.http.close()
                return

    def stop(self) -> None:
        self._stopped.set()


def _tail(log: Path, lines: int = 15) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


def demo(out: Path = typer.Option(Path("out"), help="the song goes to OUT/<composition id>/"),
         duration: float = typer.Option(30.0, help="seconds"),
         port: int = typer.Option(8000, envvar="CADENZA_API_PORT"),
         keep: bool = typer.Option(False, help="leave the stack running afterwards")) -> None:
    """Bring the stack up in the background, compose a song through the API, download it, stop."""
    from cadenza_cli import api_client
    from cadenza_cli.request_options import api_body, build_request
    from infra import stack
    from infra.database import make_engine, make_session_factory
    from tenancy.keys import TenantExists, add_key, create_tenant

    settings = ServiceSettings()
    were_running = services_were_running(settings)
    typer.echo("starting Kafka and PostgreSQL ...")
    services = stack.start(settings)
    log_dir = settings.run_dir / "logs"
    supervisor = Supervisor(stack_environment(settings, services, port), log_dir=log_dir)
    url = f"http://127.0.0.1:{port}"
    try:
        typer.echo(f"starting saga, stage workers, projector, relay and API (logs in {log_dir}) ...")
        start_processes(supervisor, per_stage=False)
        wait_for_api(url, supervisor)
        sessions = make_session_factory(make_engine(services.database_url, pool_size=1))
        try:
            key = create_tenant(sessions, "demo", rate_per_s=0, max_in_flight=0)
        except TenantExists:
            key = add_key(sessions, "demo")
        request = build_request(mood="happy", genres=["pop=0.7", "funk=0.3"], theme="a summer road trip",
                                duration=duration, seed=42)
        with api_client.client(url, key) as http:
            composition_id = api_client.submit(http, api_body(request))
            typer.echo(f"composition {composition_id} accepted; following its progress")
            watchdog = Watchdog(supervisor, http)
            try:
                kind, data = api_client.follow(http, composition_id)
            except Exception:
                if watchdog.dead is None:
                    raise
                dead: Child = watchdog.dead
                log = log_dir / f"{dead.name}.log"
                typer.echo(f"{dead.name} exited with {dead.popen.returncode}; {log}:\n{_tail(log)}", err=True)
                raise typer.Exit(1) from None
            finally:
                watchdog.stop()
            if kind != "CompositionCompleted":
                typer.echo(f"the composition ended {kind}: {data}", err=True)
                raise typer.Exit(1)
            paths = api_client.download(http, composition_id, out)
        typer.echo(f"\nyour song is in {(out / composition_id).resolve()}:")
        for path in paths:
            typer.echo(f"  {path}")
        if keep:
            typer.echo(f"the stack keeps running: web page {url}/ (API key {key})")
    finally:
        if not keep:
            typer.echo("stopping the stack ...")
            supervisor.stop()
            if not were_running:
                stack.stop(settings)
