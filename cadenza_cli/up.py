"""`cadenza up`: the whole stack in the foreground - Kafka, PostgreSQL and (for artifacts in object
storage) S3Proxy (infra.stack), then the outbox relay, the projector, the saga, the stage workers, the
feedback learner and the API, each a supervised child (``supervisor``). The servers this command
started are watched too (``service_watch``: a dead one is restarted). Ctrl-C stops the children in
reverse order, then the servers this command started."""

from __future__ import annotations

import signal
import threading
import time

import typer

from cadenza_cli.processes import ProcessSpec, stack_processes
from cadenza_cli.service_watch import ServiceWatch
from cadenza_cli.supervisor import Supervisor
from infra.settings import PROJECT_ROOT, ServiceSettings


def stack_environment(settings: ServiceSettings, services, port: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every child gets: this process's, with where the services are and the API's port."""
    import os

    env = dict(os.environ)
    env.update(settings.environment())
    env.update({"KAFKA_BOOTSTRAP_SERVERS": services.bootstrap_servers, "DATABASE_URL": services.database_url,
                "CADENZA_API_PORT": str(port), "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(PROJECT_ROOT)})
    env.update(extra or {})
    return env


def start_processes(supervisor: Supervisor, *, per_stage: bool = True, metrics_base_port: int = 9100,
                    api_port: int = 8000) -> list[ProcessSpec]:
    """The stack's processes (cadenza_cli.processes), in the order they are needed (stopped in reverse);
    every stream processor exposes Prometheus /metrics on its own port from ``metrics_base_port`` up (0: none)."""
    specs = stack_processes(per_stage=per_stage, metrics_base_port=metrics_base_port, api_port=api_port)
    for spec in specs:
        supervisor.start(spec.name, *spec.args, env=spec.env)
    return specs


def start_registry(settings: ServiceSettings):
    """The project's own schema registry when the wire format is Confluent's and no registry URL is
    given (the processes register their schemas at start); None otherwise."""
    if settings.schema_format != "confluent" or settings.registry_external:
        return None
    from infra.registry.server import LocalRegistry

    registry = LocalRegistry.from_settings(settings)
    if registry.running():
        return None  # someone else's: used, not stopped
    typer.echo(f"starting the schema registry ... {registry.start()}")
    return registry


def start_observability(settings: ServiceSettings, specs: list[ProcessSpec]) -> str:
    """Debian's Prometheus scraping ``specs`` (infra/prometheus); its URL."""
    from infra.observability.config import stack_targets
    from infra.prometheus.server import LocalPrometheus

    return LocalPrometheus.from_settings(settings).start(stack_targets(specs))


def stop_observability(settings: ServiceSettings) -> None:
    from infra.prometheus.server import LocalPrometheus

    LocalPrometheus.from_settings(settings).stop()


def wait_for_api(url: str, supervisor: Supervisor, timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = supervisor.exited()
        if dead:
            raise RuntimeError(f"{dead.name} exited with {dead.popen.returncode} while starting")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the API did not answer at {url} within {timeout:.0f}s")


DEV_KEY_FILE = "dev-tenant.key"


def development_key(settings: ServiceSettings, database_url: str) -> str:
    """The key of the local development tenant (created once, kept under the run dir)."""
    from infra.database import make_engine, make_session_factory
    from tenancy.keys import development_key as dev_key

    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    try:
        return dev_key(make_session_factory(engine), settings.run_dir / DEV_KEY_FILE)
    finally:
        engine.dispose()


def services_were_running(settings: ServiceSettings) -> bool:
    from infra import stack

    return all(not value.startswith("stopped") for value in stack.status(settings).values())


def stop_services(settings: ServiceSettings, started: list, ours: list) -> None:
    """Stop the servers this command started (all of them together when it started them all)."""
    from infra import stack

    if started and len(started) == len(ours):
        stack.stop(settings)
        return
    for service in reversed(started):
        service.stop()


def up(port: int = typer.Option(8000, envvar="CADENZA_API_PORT", help="the API's port"),
       stage_workers: str = typer.Option("per-stage", help="'per-stage' (one process per stage) or 'single'"),
       metrics_base_port: int = typer.Option(9100, envvar="CADENZA_METRICS_BASE_PORT",
                                             help="first /metrics port of the stream processors (0: none)"),
       pool_size: int = typer.Option(1, envvar="CADENZA_POOL_SIZE", min=1,
                                     help="pool processes of each per-stage worker"),
       keep_services: bool = typer.Option(False, help="leave Kafka, PostgreSQL (and S3Proxy) running after Ctrl-C"),
       observability: bool = typer.Option(False, "--observability",
                                          help="also run Prometheus (CADENZA_PROMETHEUS_PORT) scraping every process")) -> None:
    """Run the whole stack in the foreground: Kafka, PostgreSQL, saga, stage workers, projector, relay, API."""
    from infra import stack

    if stage_workers not in ("per-stage", "single"):
        raise typer.BadParameter("'per-stage' or 'single'", param_hint="--stage-workers")
    settings = ServiceSettings()
    ours = stack.local_services(settings)
    started = [s for s in ours if s.pid() is None]  # ours to watch and, at the end, to stop
    typer.echo("starting " + (", ".join(s.name for s in started) or "nothing: the services run already") + " ...")
    services = stack.start(settings)
    registry = start_registry(settings)
    watch = ServiceWatch(started)
    extra = {"CADENZA_POOL_SIZE": str(pool_size)} if stage_workers == "per-stage" else {}
    supervisor = Supervisor(stack_environment(settings, services, port, extra))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    code = 0
    try:
        specs = start_processes(supervisor, per_stage=stage_workers == "per-stage",
                                metrics_base_port=metrics_base_port, api_port=port)
        if observability:
            typer.echo(f"Prometheus on {start_observability(settings, specs)} (alerts at /alerts)")
        wait_for_api(f"http://127.0.0.1:{port}", supervisor)
        key = development_key(settings, services.database_url)
        typer.echo(f"\ncadenza is up: web page http://127.0.0.1:{port}/#key={key} (API, OpenAPI at /docs)\n"
                   f"  your development key: {key}  (tenant 'dev'; kept in {settings.run_dir / DEV_KEY_FILE})\n"
                   f"  CADENZA_API_KEY={key} cadenza compose --theme 'a summer road trip'\n"
                   f"Ctrl-C stops everything\n")
        while not stop.wait(0.5):
            gone = watch.check()
            if gone:
                typer.echo(f"{gone}; stopping the stack", err=True)
                code = 1
                break
            dead = supervisor.exited()
            if dead:
                typer.echo(f"{dead.name} exited with {dead.popen.returncode}; stopping the stack", err=True)
                code = 1
                break
    except RuntimeError as exc:
        typer.echo(f"error: {exc}", err=True)
        code = 1
    finally:
        typer.echo("stopping ...")
        watch.stop()
        supervisor.stop()
        if observability and not keep_services:
            stop_observability(settings)
        if registry is not None and not keep_services:
            registry.stop()
        if not keep_services:
            stop_services(settings, started, ours)
        typer.echo("stopped")
    raise typer.Exit(code)
