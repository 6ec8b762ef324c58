"""`cadenza up` heals itself (issue 15.1), as an operator would try it: the whole stack on its own Kafka
and PostgreSQL (fresh ports and run dir), kill -9 of the broker, of PostgreSQL and of a stage worker.
Each comes back by itself and work completes; an outage is a few log lines, not thousands; nothing of
the stack is left running after Ctrl-C. The tenant comes from `cadenza tenants create` run with only
CADENZA_PG_PORT set (issue 15.2: the default URL follows the port)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from infra.net import free_port
from infra.settings import PROJECT_ROOT
from tests.e2e.stack import REQUEST
from tests.processes import alive, cmdline, tree, wait_gone
from tests.side_effects import assert_one_object_per_artifact, assert_stages_completed_once

pytestmark = [pytest.mark.e2e, pytest.mark.heavy]
BASE = "/api/v2/compositions"
CONNECTION_ERROR = re.compile(r"Unable connect|Unable to update metadata|Failed fetch|Connect call failed|Connection refused"
                              r"|KafkaConnectionError|NodeNotReady|Disconnected|unreachable|Connect to ipv", re.I)


class Up:
    """`cadenza up` in the background, its output in a file."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.api_port = free_port()
        self.env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")}
        self.env.update({
            "CADENZA_RUN_DIR": str(run_dir), "CADENZA_KAFKA_PORT": str(free_port()),
            "CADENZA_KAFKA_CONTROLLER_PORT": str(free_port()), "CADENZA_PG_PORT": str(free_port()),
            "CADENZA_KAFKA_HEAP": "384m", "CADENZA_KAFKA_BROKERS": "1", "CADENZA_ARTIFACT_STORE": "local",
            "CADENZA_PROVIDERS": "tests.e2e.providers:registry", "CADENZA_FAKE_STATE_DIR": str(run_dir / "fakes"),
            "CADENZA_TICK_INTERVAL_S": "0.2", "CADENZA_BACKOFF_BASE_S": "0.2", "CADENZA_BACKOFF_MAX_S": "2",
            "CADENZA_TOPIC_PREFIX": "", "PYTHONUNBUFFERED": "1"})
        self.log = run_dir / "up.log"
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "cadenza_cli.main", "up", "--stage-workers", "single", "--metrics-base-port", "0",
             "--port", str(self.api_port)],
            env=self.env, cwd=PROJECT_ROOT, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.api_port}"

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_log(self, needle: str, timeout: float, after: int = 0) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text()[after:]:
            assert self.popen.poll() is None, f"cadenza up exited {self.popen.returncode}:\n{self.text()[-5000:]}"
            assert time.monotonic() < deadline, f"no {needle!r} within {timeout}s:\n{self.text()[-5000:]}"
            time.sleep(0.3)

    def child(self, marker: str) -> int:
        found = [p for p in tree(self.popen.pid) if marker in cmdline(p) and "multiprocessing" not in cmdline(p)]
        assert len(found) == 1, (marker, found)
        return found[0]

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cadenza_cli.main", *args], env=self.env, cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=60)


def compose(client: httpx.Client, theme: str) -> str:
    response = client.post(BASE, json={**REQUEST, "theme": theme})
    assert response.status_code == 202, response.text
    return response.json()["id"]


def wait_done(client: httpx.Client, ids: list[str], up: Up, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    status: dict[str, str] = {}
    while time.monotonic() < deadline:
        for cid in ids:
            try:
                status[cid] = client.get(f"{BASE}/{cid}").json()["status"]
            except (httpx.HTTPError, ValueError, KeyError):
                status[cid] = "unreachable"
        if all(s == "completed" for s in status.values()):
            return
        assert not any(s in ("failed", "cancelled") for s in status.values()), status
        time.sleep(0.5)
    raise AssertionError(f"not completed within {timeout}s: {status}\n{up.text()[-6000:]}")


def wait_stage_running(client: httpx.Client, cid: str, stage: str, up: Up, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stages = {s["stage"]: s["status"] for s in client.get(f"{BASE}/{cid}").json()["stages"]}
        if stages.get(stage) == "running":
            return
        time.sleep(0.2)
    raise AssertionError(f"{stage} of {cid} not running within {timeout}s:\n{up.text()[-6000:]}")


def connection_lines(text: str) -> Counter:
    """Connection-error lines per process (up prefixes each child's line with its name)."""
    counts: Counter = Counter()
    for line in text.splitlines():
        if CONNECTION_ERROR.search(line):
            counts[line.split("|", 1)[0].strip() if "|" in line[:16] else "up"] += 1
    return counts


def test_up_brings_back_a_killed_broker_postgres_and_worker_and_leaves_nothing_behind() -> None:
    run_dir = PROJECT_ROOT / ".run" / f"up-{uuid.uuid4().hex[:8]}"  # PostgreSQL (as its own user) must reach it
    run_dir.mkdir(parents=True)
    up = Up(run_dir)
    seen: set[int] = set()
    try:
        up.wait_log("cadenza is up", 240)
        created = up.cli("tenants", "create", "healer", "--rate", "0", "--max-in-flight", "0")
        assert created.returncode == 0, created.stderr
        key = created.stdout.strip().splitlines()[0]
        client = httpx.Client(base_url=up.url, headers={"X-API-Key": key}, timeout=10)
        wait_done(client, [compose(client, "before")], up, 90)
        broker_pid = int((run_dir / "kafka" / "broker.pid").read_text())
        seen |= tree(up.popen.pid) | {broker_pid}

        # the broker: kill -9, accepted work while it is down, back by itself, everything completes
        mark = len(up.text())
        os.kill(broker_pid, signal.SIGKILL)
        killed_at = time.monotonic()
        during = [compose(client, f"while kafka is down {i}") for i in range(3)]
        up.wait_log("kafka is back", 120, after=mark)
        outage_s = time.monotonic() - killed_at
        assert not alive(broker_pid)  # reaped by cadenza up, not a zombie taken for a broker
        time.sleep(8)  # the clients' outage lines end once they have reconnected
        lines = connection_lines(up.text()[mark:])
        print(f"outage {outage_s:.1f} s; connection-error lines per process: {dict(lines)}")
        noisy = [line for line in up.text()[mark:].splitlines() if CONNECTION_ERROR.search(line)]
        assert lines and all(count < 20 for count in lines.values()), (lines, noisy[:40])
        wait_done(client, during, up, 180)
        seen.add(int((run_dir / "kafka" / "broker.pid").read_text()))

        # PostgreSQL: kill -9 of the postmaster, back by itself, the API writes again
        data = run_dir / "postgres" / "data"
        postmaster = int((data / "postmaster.pid").read_text().split()[0])
        mark = len(up.text())
        os.kill(postmaster, signal.SIGKILL)
        up.wait_log("postgres is back", 90, after=mark)
        deadline = time.monotonic() + 30
        while True:  # a pooled connection broken by the restart fails one request, then is replaced
            try:
                after_pg = compose(client, "after postgres")
                break
            except (AssertionError, httpx.HTTPError):
                assert time.monotonic() < deadline
                time.sleep(1)
        wait_done(client, [after_pg], up, 90)

        # a stage worker: kill -9 of the worker alone in the middle of a stage; its pool goes with it,
        # up starts it again, the stage runs again, and what it did is there once
        during = compose(client, "script: render=hang:6; during the worker kill")
        wait_stage_running(client, during, "render", up, 60)
        worker = up.child("worker stage all")
        pool = tree(worker)
        assert pool, "the stage worker has no pool processes"
        mark = len(up.text())
        os.kill(worker, signal.SIGKILL)
        assert wait_gone(pool, 10) == set()
        up.wait_log("stages exited with -9; restart 1/5", 30, after=mark)
        wait_done(client, [during, compose(client, "after the worker")], up, 180)
        database_url = f"postgresql+psycopg2://cadenza@127.0.0.1:{up.env['CADENZA_PG_PORT']}/cadenza"
        assert_stages_completed_once(database_url, [during])
        assert_one_object_per_artifact(run_dir / "artifacts", [during])
        seen |= tree(up.popen.pid)
        seen.add(int((data / "postmaster.pid").read_text().split()[0]))
        client.close()
    finally:
        if up.popen.poll() is None:
            os.killpg(up.popen.pid, signal.SIGINT)
            try:
                up.popen.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(up.popen.pid, signal.SIGKILL)
                raise
        log = up.text()
        left = wait_gone(seen | tree(up.popen.pid), 20)
        if not left:
            shutil.rmtree(run_dir, ignore_errors=True)
    assert up.popen.returncode == 0, log[-4000:]
    assert left == set(), {p: cmdline(p) for p in left}
