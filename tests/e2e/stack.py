"""The whole stack for end-to-end tests: saga, stage workers (fake providers), projector, relay and
the API, each a real process (`cadenza worker ...`, `cadenza run ...`), on fresh topics and a fresh
database, against the real broker and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from infra.database import make_engine, make_session_factory
from infra.net import free_port
from infra.topics import Topics, ensure_topics
from tenancy.keys import create_tenant

ROOT = Path(__file__).resolve().parents[2]
TERMINAL = {"CompositionCompleted", "CompositionFailed", "CompositionCancelled"}
REQUEST = {"mood": "happy", "genres": [{"genre": "pop", "weight": 1.0}], "theme": "an e2e song", "duration_s": 30,
           "seed": 3}


@dataclass
class Stack:
    bootstrap: str
    database_url: str
    workdir: Path
    prefix: str = field(default_factory=lambda: f"e{uuid.uuid4().hex[:8]}.")
    port: int = field(default_factory=free_port)
    providers: str = "tests.e2e.providers:registry"
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    """Settings for every process of this stack (e.g. the S3 artifact store)."""

    def __post_init__(self) -> None:
        ensure_topics(self.bootstrap, Topics(self.prefix))
        self.engine = make_engine(self.database_url, pool_size=2)
        self.sessions = make_session_factory(self.engine)
        self.url = f"http://127.0.0.1:{self.port}"

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap, "DATABASE_URL": self.database_url,
            "CADENZA_TOPIC_PREFIX": self.prefix, "CADENZA_PROVIDERS": self.providers,
            "CADENZA_ARTIFACT_DIR": str(self.workdir / "artifacts"), "CADENZA_DATA_DIR": str(self.workdir / "faust"),
            "CADENZA_FAKE_STATE_DIR": str(self.workdir / "fake-state"), "CADENZA_POOL_SIZE": "1",
            "CADENZA_TICK_INTERVAL_S": "0.2", "CADENZA_BACKOFF_BASE_S": "0.2", "CADENZA_BACKOFF_MAX_S": "1.0",
            "CADENZA_LOG_LEVEL": "warn", "CADENZA_API_PORT": str(self.port), "CADENZA_API_SSE_POLL_S": "0.1",
            "CADENZA_PROJECTOR_GROUP_ID": f"projector-{self.prefix}", "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
        })
        env.update(self.extra_env)
        env.update(extra)
        return env

    def start(self, name: str, *args: str, cwd: Path = ROOT, **env: str) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")
        proc = subprocess.Popen([sys.executable, "-m", "cadenza_cli.main", *args], env=self.env(**env), cwd=cwd,
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs[name] = proc
        return proc

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)

    def up(self) -> None:
        self.start("relay", "run", "relay")
        self.start("projector", "run", "projector")
        self.start("saga", "worker", "saga")
        self.start("stages", "worker", "stage", "all")
        self.start("analytics", "run", "analytics", CADENZA_ANALYTICS_GROUP_ID=f"analytics-{self.prefix}",
                   CADENZA_ANALYTICS_POLL_TIMEOUT_S="0.1")
        self.start("api", "run", "api")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError("the API did not start:\n" + self.logs())

    def down(self) -> None:
        for name in reversed(list(self.procs)):
            self.stop(name)
        self.engine.dispose()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-2500:]}" for p in sorted(self.workdir.glob("*.log")))

    # ------------------------------------------------------------ as a client

    def tenant(self) -> httpx.Client:
        key = create_tenant(self.sessions, f"e2e-{uuid.uuid4().hex[:8]}", rate_per_s=0, max_in_flight=0)
        return httpx.Client(base_url=self.url, headers={"X-API-Key": key}, timeout=httpx.Timeout(10, read=None))

    def wait_terminal(self, client: httpx.Client, composition_id: str, timeout: float = 90.0) -> dict:
        """Follow the event stream (the way a user would) until the terminal event."""
        deadline = time.monotonic() + timeout
        events: list[tuple[str, dict]] = []
        last_id = None
        import json

        while time.monotonic() < deadline:
            headers = {"Last-Event-ID": last_id} if last_id else {}
            with client.stream("GET", f"/api/v2/compositions/{composition_id}/events", headers=headers,
                               timeout=httpx.Timeout(10, read=deadline - time.monotonic())) as response:
                assert response.status_code == 200, response.read()
                kind = None
                for line in response.iter_lines():
                    if line.startswith("id: "):
                        last_id = line[4:]
                    elif line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: "):
                        events.append((kind, json.loads(line[6:])))
                        if kind in TERMINAL:
                            return {"type": kind, "events": events, **events[-1][1]}
        raise AssertionError(f"no terminal event for {composition_id} within {timeout}s:\n{self.logs()}")
