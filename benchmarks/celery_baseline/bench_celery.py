"""Celery + Redis baseline: N compositions through Cadenza's 8-stage DAG (dag.py) with instant stages.

Starts its own redis-server (Debian's package) on its own port under a temporary directory and one
`celery worker --pool=prefork --concurrency=<cores>`, submits one workflow per composition (all at
once, or at an offered rate) and waits for each master task's result on the Redis channel Celery
publishes it to. Reports compositions/s, end-to-end latency p50/p99 (submit to the master result
read by the driver), Redis commands per composition and CPU seconds of the worker (its prefork
children included) and of redis-server; stops everything at the end.

    python3 benchmarks/celery_baseline/bench_celery.py --n 300 [--rate 5] [--json out.json]

Any Python 3.11 runs it: on first use it creates benchmarks/celery_baseline/.venv with the pinned
requirements.txt and re-runs itself there, so Celery never becomes a dependency of Cadenza.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
REQUIREMENTS = HERE / "requirements.txt"


def ensure_venv() -> None:
    """Create or update the baseline's venv from requirements.txt, then re-run this script inside it."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".requirements"
    wanted = REQUIREMENTS.read_text()
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    if not stamp.exists() or stamp.read_text() != wanted:
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(REQUIREMENTS)],
                       check=True)
        stamp.write_text(wanted)
    if Path(sys.prefix).resolve() != VENV.resolve():
        os.execv(str(python), [str(python), __file__, *sys.argv[1:]])


if __name__ == "__main__":
    ensure_venv()

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from contextlib import contextmanager  # noqa: E402

import redis  # noqa: E402

sys.path.insert(0, str(HERE.parents[1]))
from benchmarks.measure import cpu_seconds, percentile  # noqa: E402

REQUEST = {"mood": {"valence": 0.8, "arousal": 0.7}, "genres": [{"genre": "pop", "weight": 1.0}],
           "theme": "benchmark", "duration_s": 30, "instrumental": False, "seed": 1}


def _stop(popen: subprocess.Popen, timeout: float = 20.0) -> None:
    if popen.poll() is None:
        os.killpg(popen.pid, signal.SIGTERM)
        try:
            popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(popen.pid, signal.SIGKILL)
            popen.wait(10)


@contextmanager
def redis_server(port: int, workdir: Path):
    """Debian's redis-server on 127.0.0.1:port, data in workdir, no snapshots; yields (client, pid)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed: apt-get install redis-server (listed in infra/apt-packages.txt)")
    client = redis.Redis(port=port)
    try:
        client.ping()
        raise SystemExit(f"port {port} already answers Redis; pick another with --redis-port")
    except redis.ConnectionError:
        pass
    log = open(workdir / "redis.log", "ab")
    popen = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir),
                              "--save", "", "--appendonly", "no", "--daemonize", "no"],
                             stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if popen.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"redis-server did not start on port {port}; see {workdir / 'redis.log'}")
                time.sleep(0.1)
        yield client, popen.pid
    finally:
        _stop(popen)


@contextmanager
def celery_worker(redis_url: str, concurrency: int, workdir: Path):
    """`celery worker --pool=prefork --concurrency=N` on dag.py, in its own process group; yields the Popen."""
    env = {**os.environ, "CELERY_BASELINE_REDIS_URL": redis_url, "CELERY_BASELINE_ARTIFACT_DIR": str(workdir / "artifacts")}
    log = workdir / "worker.log"
    popen = subprocess.Popen([str(VENV / "bin" / "celery"), "-A", "dag", "worker", "--pool=prefork",
                              f"--concurrency={concurrency}", "--loglevel=WARNING", "-n", f"baseline-{uuid.uuid4().hex[:6]}@%h"],
                             cwd=HERE, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        yield popen
    finally:
        _stop(popen)


def release_waiters(app) -> None:
    """Drop the waiters Celery's client keeps for a canvas's group results (and their subscriptions).

    Freezing a chain with groups registers every group member's result as pending in the client; they
    are released when read, which this driver never does. Releasing them while Redis is still up
    keeps AsyncResult.__del__ from reconnecting to a stopped Redis at exit.
    """
    for waiters in list(app.backend._pending_results.concrete.values()):
        for result in list(waiters.values()):
            app.backend.remove_pending_result(result)


class Driver:
    """Submits workflows and records when each master result arrives on its pub/sub channel."""

    def __init__(self, client: redis.Redis, workflow, sections) -> None:
        self.pubsub = client.pubsub(ignore_subscribe_messages=True)
        self.workflow = workflow
        self.sections = sections
        self.sent_at: dict[str, float] = {}
        self.done_at: dict[str, float] = {}
        self.failed: dict[str, str] = {}

    def submit(self) -> str:
        result_id = str(uuid.uuid4())
        channel = f"celery-task-meta-{result_id}"
        self.pubsub.subscribe(channel)  # before submitting, so the result cannot be published unseen
        self.workflow(str(uuid.uuid4()), REQUEST, result_id).apply_async()
        self.sent_at[result_id] = time.perf_counter()
        return result_id

    def read(self, timeout: float) -> None:
        message = self.pubsub.get_message(timeout=timeout)
        while message is not None:
            if message["type"] == "message":
                meta = json.loads(message["data"])
                result_id = meta["task_id"]
                if result_id in self.sent_at and result_id not in self.done_at:
                    self.done_at[result_id] = time.perf_counter()
                    missing = sorted(set(self.sections) - set(meta["result"])) if meta["status"] == "SUCCESS" else None
                    if meta["status"] != "SUCCESS" or missing:
                        self.failed[result_id] = f"{meta['status']}, sections missing: {missing}"
                    self.pubsub.unsubscribe(message["channel"])
            message = self.pubsub.get_message(timeout=0)

    def wait(self, result_id: str, timeout: float, worker: subprocess.Popen, log: Path) -> None:
        deadline = time.monotonic() + timeout
        while result_id not in self.done_at:
            if worker.poll() is not None:
                raise SystemExit(f"celery worker exited ({worker.returncode}):\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise SystemExit(f"no result within {timeout:.0f} s; worker log:\n{log.read_text()[-3000:]}")
            self.read(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--rate", type=float, default=0.0, help="offered compositions/s (0: all at once)")
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 1, help="prefork children (default: cores)")
    parser.add_argument("--redis-port", type=int, default=int(os.environ.get("CELERY_BASELINE_REDIS_PORT", "26379")))
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--json", type=Path, help="also write the summary as JSON to this file")
    args = parser.parse_args()
    if args.n < 1 or args.rate < 0 or args.concurrency < 1:
        parser.error("--n and --concurrency must be >= 1 and --rate >= 0")

    workdir = Path(tempfile.mkdtemp(prefix="bench-celery-"))
    redis_url = f"redis://127.0.0.1:{args.redis_port}/0"
    os.environ["CELERY_BASELINE_REDIS_URL"] = redis_url
    sys.path.insert(0, str(HERE))
    from dag import SECTIONS, app, workflow

    try:
        with redis_server(args.redis_port, workdir) as (client, redis_pid), \
                celery_worker(redis_url, args.concurrency, workdir) as worker:
            driver = Driver(client, workflow, SECTIONS)
            # warm-up: one composition end to end, so start-up is not measured
            driver.wait(driver.submit(), 120, worker, workdir / "worker.log")
            driver = Driver(client, workflow, SECTIONS)
            pids = {"worker": worker.pid, "redis": redis_pid}
            cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            commands_before = client.info("stats")["total_commands_processed"]
            started = time.perf_counter()
            published = None
            deadline = started + args.timeout
            while len(driver.done_at) < args.n and time.perf_counter() < deadline:
                while len(driver.sent_at) < args.n and (
                        not args.rate or len(driver.sent_at) < (time.perf_counter() - started) * args.rate + 1):
                    driver.submit()
                if published is None and len(driver.sent_at) == args.n:
                    published = time.perf_counter()
                driver.read(0.05)
            finished = time.perf_counter()
            cpu_after = {name: cpu_seconds(pid) for name, pid in pids.items()}
            commands = client.info("stats")["total_commands_processed"] - commands_before
            release_waiters(app)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    done = len(driver.done_at)
    latencies = [driver.done_at[r] - driver.sent_at[r] for r in driver.done_at]
    wall = finished - started
    cpu = {name: round(cpu_after[name] - cpu_before[name], 3) for name in pids}
    summary = {
        "system": "celery", "n": args.n, "rate": args.rate, "terminal": done, "failed": len(driver.failed),
        "wall_s": round(wall, 3), "throughput_per_s": round(done / wall, 2),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1) if latencies else None,
        "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
        "cpu_s": cpu, "redis_commands_per_composition": round(commands / max(done, 1), 1),
    }
    for result_id, why in driver.failed.items():
        print(f"  {result_id}: {why}")
    print(f"compositions: {done}/{args.n} terminal in {wall:.2f} s (published in {(published or finished) - started:.2f} s)"
          + (f", {len(driver.failed)} failed" if driver.failed else ""))
    print(f"throughput:   {summary['throughput_per_s']:.1f} compositions/s")
    if latencies:
        print(f"latency:      p50 {summary['p50_ms']:.0f} ms, p99 {summary['p99_ms']:.0f} ms, max {summary['max_ms']:.0f} ms")
    print(f"redis:        {summary['redis_commands_per_composition']:.0f} commands per composition")
    for name, used in cpu.items():
        print(f"cpu {name:10s} {used:.1f} s ({100 * used / wall:.0f}% of one core)")
    if args.json:
        args.json.write_text(json.dumps(summary) + "\n")


if __name__ == "__main__":
    main()
