"""`cadenza up` (the whole stack in the foreground), `cadenza demo-song` (a song through it, end to
end) and `cadenza run api|relay|projector` (one of the processes `up` starts).

`up` starts Kafka and PostgreSQL (infra.stack), then each process as a child in its own session:
the outbox relay, the projector, the saga, one stage worker per stage, the feedback learner, and the API. Every child's
output is printed with its name in front. SIGINT/SIGTERM (Ctrl-C) stops the children in reverse
order (SIGTERM, then SIGKILL after a grace period), then the services this command started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import typer

from infra.settings import PROJECT_ROOT, run_dir

run_app = typer.Typer(no_args_is_help=True, help="Run one of the stack's own processes in the foreground.")
COLORS = ("36", "33", "35", "32", "34", "31", "96", "93", "95", "92", "94", "91", "37")


@run_app.command("api")
def run_api(host: str = typer.Option(None, help="default CADENZA_API_HOST or 127.0.0.1"),
            port: int = typer.Option(None, help="default CADENZA_API_PORT or 8000"),
            workers: int = typer.Option(1, help="uvicorn worker processes")) -> None:
    """The HTTP API (uvicorn)."""
    import uvicorn

    from api.settings import ApiSettings

    settings = ApiSettings()
    uvicorn.run("api.app:create_app", factory=True, host=host or settings.host, port=port or settings.port,
                workers=workers, log_level="warning", access_log=False)


@run_app.command("relay")
def run_relay() -> None:
    """The outbox relay (PostgreSQL outbox -> Kafka)."""
    from producers.outbox_relay import main

    main()


@run_app.command("projector")
def run_projector() -> None:
    """The projector (compositions.events -> the read model)."""
    from stream_processors.projector import main

    main()


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    popen: subprocess.Popen | None = None
    reader: threading.Thread | None = None
    restarts: int = 0


MAX_RESTARTS = 5
"""A child that exits on its own is started again this many times (e.g. a faust worker that gave up
while a freshly formatted broker was still loading its coordinators) before the stack gives up."""


@dataclass
class Supervisor:
    """Starts children, prefixes their output, stops them in reverse order."""

    env: dict[str, str]
    log_dir: Path | None = None  # None: print to the terminal; else one file per child
    children: list[Child] = field(default_factory=list)
    stopping: bool = False

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> Child:
        child = Child(name, [sys.executable, "-m", "cadenza_cli.main", *args], env={**self.env, **(env or {})})
        self._spawn(child)
        self.children.append(child)
        return child

    def _spawn(self, child: Child) -> None:
        out: int | IO = subprocess.PIPE
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.log_dir / f"{child.name}.log", "ab")
        child.popen = subprocess.Popen(child.argv, env=child.env, cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL,
                                       stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        if self.log_dir is None:
            color = COLORS[self.children.index(child) % len(COLORS)] if child in self.children \
                else COLORS[len(self.children) % len(COLORS)]
            child.reader = threading.Thread(target=self._echo, args=(child, color), daemon=True)
            child.reader.start()

    def _echo(self, child: Child, color: str) -> None:
        tty = sys.stdout.isatty()
        prefix = f"\x1b[{color}m{child.name:>12} |\x1b[0m " if tty else f"{child.name:>12} | "
        for raw in iter(child.popen.stdout.readline, b""):
            sys.stdout.write(prefix + raw.decode(errors="replace").rstrip() + "\n")
            sys.stdout.flush()

    def exited(self) -> Child | None:
        """A child that exited and used up its restarts; children that exited with restarts left are
        started again here (callers poll this)."""
        for child in self.children:
            if child.popen.poll() is None or self.stopping:
                continue
            if child.restarts >= MAX_RESTARTS:
                return child
            child.restarts += 1
            sys.stderr.write(f"{child.name} exited with {child.popen.returncode}; "
                             f"restart {child.restarts}/{MAX_RESTARTS}\n")
            time.sleep(min(5.0, 0.5 * 2 ** child.restarts))
            self._spawn(child)
        return None

    def stop(self, grace_s: float = 20.0) -> None:
        self.stopping = True
        for child in reversed(self.children):
            if child.popen.poll() is None:
                try:
                    os.killpg(child.popen.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
                try:
                    child.popen.wait(grace_s)
                except subprocess.TimeoutExpired:
                    os.killpg(child.popen.pid, signal.SIGKILL)
                    child.popen.wait(10)
            if child.reader:
                child.reader.join(2)


def _stack_env(services, port: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"KAFKA_BOOTSTRAP_SERVERS": services.bootstrap_servers, "DATABASE_URL": services.database_url,
                "CADENZA_API_PORT": str(port), "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(PROJECT_ROOT)})
    env.setdefault("CADENZA_ARTIFACT_DIR", str(run_dir() / "artifacts"))
    env.update(extra or {})
    return env


def start_processes(supervisor: Supervisor, *, per_stage: bool = True) -> None:
    """The stack's processes, in the order they are needed (stopped in reverse)."""
    from composition.models import StageName

    # every stream processor exposes Prometheus /metrics on its own port, from CADENZA_METRICS_BASE_PORT up
    base = int(supervisor.env.get("CADENZA_METRICS_BASE_PORT", "9100"))
    ports = iter(range(base, base + 100))

    def metrics(prefix: str = "CADENZA_") -> dict[str, str]:
        return {f"{prefix}METRICS_PORT": str(next(ports))} if base else {}

    supervisor.start("relay", "run", "relay")
    supervisor.start("projector", "run", "projector", env=metrics("CADENZA_PROJECTOR_"))
    supervisor.start("saga", "worker", "saga", env=metrics())
    if per_stage:
        for stage in StageName:
            supervisor.start(stage.value, "worker", "stage", stage.value, env=metrics())
    else:
        supervisor.start("stages", "worker", "stage", "all", env=metrics())
    supervisor.start("feedback", "worker", "feedback", env=metrics())
    supervisor.start("api", "run", "api")


class _Watchdog:
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


def _services_were_running() -> bool:
    from infra import stack

    status = stack.status()
    return all(not value.startswith("stopped") for value in status.values())


def up(port: int = typer.Option(8000, envvar="CADENZA_API_PORT", help="the API's port"),
       stage_workers: str = typer.Option("per-stage", help="'per-stage' (one process per stage) or 'single'"),
       keep_services: bool = typer.Option(False, help="leave Kafka and PostgreSQL running after Ctrl-C")) -> None:
    """Run the whole stack in the foreground: Kafka, PostgreSQL, saga, stage workers, projector, relay, API."""
    from infra import stack

    if stage_workers not in ("per-stage", "single"):
        raise typer.BadParameter("--stage-workers: 'per-stage' or 'single'")
    were_running = _services_were_running()
    typer.echo("starting Kafka and PostgreSQL ...")
    services = stack.start()
    extra = {"CADENZA_POOL_SIZE": os.environ.get("CADENZA_POOL_SIZE", "1")} if stage_workers == "per-stage" else {}
    supervisor = Supervisor(_stack_env(services, port, extra))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    code = 0
    try:
        start_processes(supervisor, per_stage=stage_workers == "per-stage")
        wait_for_api(f"http://127.0.0.1:{port}", supervisor)
        typer.echo(f"\ncadenza is up: web page and API on http://127.0.0.1:{port}/ (OpenAPI at /docs); "
                   f"Ctrl-C stops everything\n")
        while not stop.wait(0.5):
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
        supervisor.stop()
        if not keep_services and not were_running:
            stack.stop()
        typer.echo("stopped")
    raise typer.Exit(code)


def demo_song(out: Path = typer.Option(Path("out"), help="the song goes to OUT/<composition id>/"),
              duration: float = typer.Option(30.0, help="seconds"),
              port: int = typer.Option(8000, envvar="CADENZA_API_PORT"),
              keep: bool = typer.Option(False, help="leave the stack running afterwards")) -> None:
    """Bring the stack up in the background, compose a song through the API, download it, stop."""
    from api.tenancy import add_key, create_tenant
    from cadenza_cli import compose_api
    from infra import stack
    from infra.database import make_engine, make_session_factory

    were_running = _services_were_running()
    typer.echo("starting Kafka and PostgreSQL ...")
    services = stack.start()
    log_dir = run_dir() / "logs"
    supervisor = Supervisor(_stack_env(services, port), log_dir=log_dir)
    url = f"http://127.0.0.1:{port}"
    try:
        typer.echo(f"starting saga, stage workers, projector, relay and API (logs in {log_dir}) ...")
        start_processes(supervisor, per_stage=False)
        wait_for_api(url, supervisor)
        sessions = make_session_factory(make_engine(services.database_url, pool_size=1))
        try:
            key = create_tenant(sessions, "demo", rate_per_s=0, max_in_flight=0)
        except ValueError:
            key = add_key(sessions, "demo")
        body = compose_api.build_request(mood="happy", genres=["pop=0.7", "funk=0.3"], theme="a summer road trip",
                                         duration=duration, seed=42)
        with compose_api.client(url, key) as http:
            composition_id = compose_api.submit(http, body)
            typer.echo(f"composition {composition_id} accepted; following its progress")
            watchdog = _Watchdog(supervisor, http)
            try:
                kind, data = compose_api.follow(http, composition_id)
            except Exception:
                if watchdog.dead is None:
                    raise
                log = log_dir / f"{watchdog.dead.name}.log"
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:]) if log.exists() else ""
                typer.echo(f"{watchdog.dead.name} exited with {watchdog.dead.popen.returncode}; {log}:\n{tail}", err=True)
                raise typer.Exit(1) from None
            finally:
                watchdog.stop()
            if kind != "CompositionCompleted":
                typer.echo(f"the composition ended {kind}: {data}", err=True)
                raise typer.Exit(1)
            paths = compose_api.download(http, composition_id, out)
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
                stack.stop()
