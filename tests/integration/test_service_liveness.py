"""Our own servers' liveness on the real servers: a killed broker or PostgreSQL is seen as dead whoever
its parent is (a zombie, a stale pid file, a recycled pid are not a live server), and `cadenza infra
start|status|stop` bring it back the documented way. Each test runs a server of its own on free ports."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from infra.kafka.broker import LocalBroker
from infra.net import free_port
from infra.postgres.server import LocalPostgres
from infra.settings import PROJECT_ROOT, ServiceSettings

pytestmark = pytest.mark.integration


def state_of(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except FileNotFoundError:
        return None


def wait_state(pid: int, wanted: str | None, timeout: float = 20.0) -> str | None:
    deadline = time.monotonic() + timeout
    while (state := state_of(pid)) != wanted and time.monotonic() < deadline:
        time.sleep(0.05)
    return state


@pytest.fixture
def run_dir() -> Path:
    # under the checkout: PostgreSQL (run as the postgres user when we are root) must reach it
    path = PROJECT_ROOT / ".run" / f"liveness-{uuid.uuid4().hex[:8]}"
    path.mkdir(parents=True)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_a_killed_broker_is_dead_to_infra_status_and_start_whoever_its_parent(run_dir: Path, database_url: str) -> None:
    """The issue's case: the process that started the broker never reaps it, so kill -9 leaves a
    zombie that ``kill(pid, 0)`` takes for a live broker."""
    kafka_port, controller_port = free_port(), free_port()
    env = {**os.environ, "CADENZA_RUN_DIR": str(run_dir), "CADENZA_KAFKA_PORT": str(kafka_port),
           "CADENZA_KAFKA_CONTROLLER_PORT": str(controller_port), "CADENZA_KAFKA_HEAP": "256m",
           "DATABASE_URL": database_url, "CADENZA_KAFKA_BROKERS": "1", "CADENZA_ARTIFACT_STORE": "local"}
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    broker = LocalBroker(home=run_dir / "kafka", libs=ServiceSettings().cache_dir / "kafka" / "libs",
                         port=kafka_port, controller_port=controller_port, heap="256m")
    parent = subprocess.Popen(  # starts the broker, then sleeps without ever waiting for it
        [sys.executable, "-c", "import sys, time; from infra.kafka.broker import LocalBroker; "
         "from infra.settings import ServiceSettings; LocalBroker.from_settings(ServiceSettings()).start(); "
         "print('ready', flush=True); time.sleep(600)"],
        env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    cli = [sys.executable, "-m", "cadenza_cli.main", "infra"]
    try:
        assert parent.stdout.readline().strip() == "ready"
        first = broker.pid()
        assert first is not None and broker.running()
        os.kill(first, signal.SIGKILL)
        assert wait_state(first, "Z") == "Z"  # the parent does not reap it
        assert broker.pid() is None and not broker.running()
        status = subprocess.run([*cli, "status"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
        assert status.returncode == 0 and "kafka    stopped" in status.stdout, status.stdout + status.stderr

        started = time.monotonic()
        start = subprocess.run([*cli, "start"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
        assert start.returncode == 0, start.stdout + start.stderr
        assert time.monotonic() - started < 80  # not the 90 s wait on a zombie the issue saw
        second = broker.pid()
        assert second is not None and second != first and state_of(first) == "Z"
        status = subprocess.run([*cli, "status"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
        assert f"running: node 1 on 127.0.0.1:{kafka_port} (pid {second})" in status.stdout, status.stdout

        stop = subprocess.run([*cli, "stop"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=90)
        assert stop.returncode == 0 and "kafka" in stop.stdout, stop.stdout + stop.stderr
        assert wait_state(second, None) is None  # stopped, and reaped by init (its parent, the CLI, is gone)
    finally:
        parent.kill()
        parent.wait()
        broker.stop()
    assert wait_state(first, None) is None  # the parent's end let init reap the zombie


def test_a_killed_postgres_is_dead_and_starts_again_and_a_recycled_pid_is_not_it(run_dir: Path) -> None:
    server = LocalPostgres(run_dir=run_dir, port=free_port())
    server.start()
    try:
        pid = server.pid()
        assert pid is not None and server.running()
        os.kill(pid, signal.SIGKILL)
        assert wait_state(pid, None) is None  # postgres daemonizes: init reaps it
        assert (server.data_dir / "postmaster.pid").exists()  # a stale lock file ...
        assert server.pid() is None and not server.running()  # ... is not a running server
        server.start()  # crash recovery
        assert server.running() and server.pid() not in (None, pid)

        stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        lock = server.data_dir / "postmaster.pid"
        real = lock.read_text()
        try:
            lock.write_text(f"{stranger.pid}\n" + real.split("\n", 1)[1])
            assert server.pid() is None  # a live process, but not our postmaster
        finally:
            lock.write_text(real)
            stranger.kill()
            stranger.wait()
        assert server.stop() is True and server.pid() is None
    finally:
        server.stop()


def test_infra_start_and_stop_run_s3proxy_when_artifacts_go_to_s3(run_dir: Path, bootstrap_servers: str,
                                                                   database_url: str) -> None:
    port = free_port()
    env = {**os.environ, "CADENZA_RUN_DIR": str(run_dir), "CADENZA_ARTIFACT_STORE": "s3",
           "CADENZA_S3PROXY_PORT": str(port), "CADENZA_S3_BUCKET": "infra-start-test",
           "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers, "DATABASE_URL": database_url}
    env.pop("CADENZA_S3_ENDPOINT", None)
    cli = [sys.executable, "-m", "cadenza_cli.main", "infra"]
    start = subprocess.run([*cli, "start"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    try:
        assert start.returncode == 0, start.stdout + start.stderr
        assert f"s3proxy  http://127.0.0.1:{port} bucket infra-start-test" in start.stdout
        from infra.s3proxy.server import LocalS3Proxy

        proxy = LocalS3Proxy(home=run_dir / "s3proxy", libs=Path("/nonexistent"), port=port, bucket="infra-start-test")
        proxy.client().head_bucket(Bucket="infra-start-test")  # the bucket is there
        status = subprocess.run([*cli, "status"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
        assert f"s3proxy  running on http://127.0.0.1:{port}" in status.stdout, status.stdout
        assert "kafka    external" in status.stdout and "postgres external" in status.stdout
    finally:
        stop = subprocess.run([*cli, "stop"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert stop.stdout.strip() == "stopped: s3proxy", stop.stdout + stop.stderr
