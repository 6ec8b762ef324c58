"""`cadenza up --observability` for real: the stack's processes and Debian's Prometheus; after one
composition Prometheus holds a metric of each process, every gauge has a series, and every query of
the dashboard answers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from infra.net import free_port, free_ports
from infra.observability.config import JOB
from tests.e2e.stack import REQUEST, ROOT
from tests.unit.infra.test_observability import dashboard_exprs, exported_metrics

pytestmark = pytest.mark.e2e

# the metric each process shows once a composition went through
OF_EACH = {"relay": "cadenza_outbox_published_total", "projector": "cadenza_projector_events_total",
           "saga": "cadenza_compositions_terminal_total", "stages": "cadenza_stage_duration_seconds_count",
           "feedback": "cadenza_events_in_total", "analytics": "cadenza_analytics_events_total",
           "api": "cadenza_api_requests_total", "sweeper": "cadenza_retention_last_pass_seconds"}


def query(prometheus: str, expr: str) -> list:
    body = httpx.get(prometheus + "/api/v1/query", params={"query": expr}, timeout=10).json()
    assert body["status"] == "success", (expr, body)
    return body["data"]["result"]


def eventually(what: str, check, timeout: float = 90.0, logs=lambda: ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}\n{logs()}")


@pytest.fixture
def stack_up(bootstrap_servers, postgres_server, tmp_path):
    from infra.database import make_engine, make_session_factory
    from infra.stack import fresh_database

    if not __import__("shutil").which("prometheus"):
        pytest.fail("prometheus is not installed: apt-get install prometheus (infra/apt-packages.txt)")
    with fresh_database(postgres_server, "cadenza_obs") as url:
        api_port, prom_port, metrics_base = free_port(), free_port(), free_ports(20)
        env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers, "DATABASE_URL": url,
               "CADENZA_RUN_DIR": str(tmp_path / "run"), "CADENZA_TOPIC_PREFIX": f"o{uuid.uuid4().hex[:8]}.",
               "CADENZA_PROVIDERS": "tests.e2e.providers:registry", "CADENZA_FAKE_STATE_DIR": str(tmp_path / "fake"),
               "CADENZA_PROMETHEUS_PORT": str(prom_port), "CADENZA_TICK_INTERVAL_S": "0.2",
               "CADENZA_LOG_LEVEL": "warn", "PYTHONPATH": str(ROOT)}
        log = open(tmp_path / "up.log", "wb")
        proc = subprocess.Popen([sys.executable, "-m", "cadenza_cli.main", "up", "--observability",
                                 "--stage-workers", "single", "--port", str(api_port),
                                 "--metrics-base-port", str(metrics_base)],
                                env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        engine = make_engine(url, pool_size=1)

        def logs() -> str:
            return (tmp_path / "up.log").read_text(errors="replace")[-6000:]

        try:
            eventually("the API", lambda: _answers(f"http://127.0.0.1:{api_port}/healthz"), logs=logs)
            yield (f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{prom_port}", make_session_factory(engine),
                   logs)
        finally:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
            engine.dispose()
            assert not _answers(f"http://127.0.0.1:{prom_port}/-/ready"), "Prometheus still runs after Ctrl-C"


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_prometheus_sees_every_process_and_the_dashboard_answers(stack_up):
    from tenancy.keys import create_tenant

    api, prometheus, sessions, logs = stack_up
    key = create_tenant(sessions, f"obs-{uuid.uuid4().hex[:8]}", rate_per_s=0, max_in_flight=0)
    with httpx.Client(base_url=api, headers={"X-API-Key": key}, timeout=10) as client:
        cid = client.post("/api/v2/compositions", json=REQUEST).json()["id"]
        eventually("the composition to complete",
                   lambda: client.get(f"/api/v2/compositions/{cid}").json()["status"] == "completed", logs=logs)
        assert client.post(f"/api/v2/compositions/{cid}/feedback", json={"rating": 5}).status_code == 202

    up = eventually("every target up", lambda: (r := query(prometheus, f'up{{job="{JOB}"}} == 1'))
                    and len(r) == len(OF_EACH) and r, logs=logs)
    assert {s["metric"]["process"] for s in up} == set(OF_EACH)
    for process, metric in OF_EACH.items():
        eventually(f"{metric} from {process}",
                   lambda: query(prometheus, f'sum({metric}{{process="{process}"}}) > 0'), logs=logs)
    # every gauge any process defines has a series somewhere
    gauges = {name for name in exported_metrics() if not name.endswith(("_total", "_bucket", "_count", "_sum"))}
    gauges.discard("up")
    for gauge in sorted(gauges):
        eventually(f"a series of {gauge}", lambda: query(prometheus, gauge), timeout=30, logs=logs)
    # a query over failures, retries or dead letters may rightly be empty after one healthy composition;
    # a rate() answers once two scrapes saw its counter (a few scrape intervals after the composition)
    exprs = dashboard_exprs()

    def answered() -> list[str]:
        return [expr for expr in exprs if query(prometheus, expr)]

    enough = eventually("the dashboard's queries to answer", lambda: len(answered()) >= len(exprs) * 0.6,
                        timeout=60, logs=lambda: str(set(exprs) - set(answered())))
    assert enough
