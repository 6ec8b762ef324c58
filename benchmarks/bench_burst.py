"""A burst of real songs through the whole stack (issue 15.3): N songs of one to three minutes at once.

Starts `cadenza up` (per-stage workers, the real engine) on its own ports and run dir, makes a tenant
without limits, POSTs N compositions as fast as the API takes them, and follows them until every
accepted one is terminal. Reports how many were accepted and refused (429, and why), completed and
failed, every stage attempt past the first (and how many of those were for a deadline or the queue
bound), the wall time, the CPU seconds of the whole stack (every process, finished pool processes
included) and that CPU divided by the cores: how close the total time is to the work itself.

    .venv/bin/python benchmarks/bench_burst.py --n 150 [--max-backlog 200] [--min-s 60 --max-s 180] [--json out.json]

Needs nothing running: it brings up its own Kafka and PostgreSQL (Ctrl-C stops them).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psutil  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from infra.net import free_port  # noqa: E402

MOODS = ["happy", "sad", "calm", "energetic", "romantic", "dark"]
GENRES = ["pop", "rock", "funk", "ballad", "electronic", "jazz", "folk"]


class StackCpu:
    """CPU of `cadenza up`'s tree, keeping what processes that have since ended used."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.last: dict[int, float] = {}

    def sample(self) -> float:
        try:
            procs = [psutil.Process(self.root), *psutil.Process(self.root).children(recursive=True)]
        except psutil.NoSuchProcess:
            procs = []
        for proc in procs:
            try:
                times = proc.cpu_times()
                # children_*: the reaped ones (a pool process pebble replaced, the servers' helpers)
                self.last[proc.pid] = times.user + times.system + times.children_user + times.children_system
            except psutil.NoSuchProcess:
                pass
        return sum(self.last.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=150)
    parser.add_argument("--min-s", type=int, default=60)
    parser.add_argument("--max-s", type=int, default=180)
    parser.add_argument("--max-backlog", type=int, default=200, help="CADENZA_API_MAX_BACKLOG of the stack")
    parser.add_argument("--pool-size", type=int, default=1, help="pool processes per stage worker")
    parser.add_argument("--timeout", type=float, default=7200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    run_dir = Path(tempfile.mkdtemp(prefix="bench-burst-", dir=ROOT / ".run" if (ROOT / ".run").exists() else None))
    run_dir.chmod(0o755)  # PostgreSQL runs as its own user and must reach its folder in here
    pg_port, api_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")}
    env.update({"CADENZA_RUN_DIR": str(run_dir), "CADENZA_KAFKA_PORT": str(free_port()),
                "CADENZA_KAFKA_CONTROLLER_PORT": str(free_port()), "CADENZA_PG_PORT": str(pg_port),
                "CADENZA_API_MAX_BACKLOG": str(args.max_backlog), "CADENZA_TOPIC_PREFIX": "",
                "CADENZA_LOG_LEVEL": "warn", "PYTHONUNBUFFERED": "1"})
    log = open(run_dir / "up.log", "ab")
    up = subprocess.Popen([sys.executable, "-m", "cadenza_cli.main", "up", "--port", str(api_port),
                           "--metrics-base-port", "0", "--pool-size", str(args.pool_size)],
                          env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: "cadenza is up" in (run_dir / "up.log").read_text(errors="replace"), 300, up)
        created = subprocess.run([sys.executable, "-m", "cadenza_cli.main", "tenants", "create", "burst", "--rate", "0",
                                  "--max-in-flight", "0"], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
        key = created.stdout.strip().splitlines()[0]
        client = httpx.Client(base_url=f"http://127.0.0.1:{api_port}", headers={"X-API-Key": key}, timeout=30)
        rng = random.Random(15)
        cpu = StackCpu(up.pid)
        cpu_start = cpu.sample()
        started = time.monotonic()
        accepted, refused = [], Counter()
        for i in range(args.n):
            body = {"mood": rng.choice(MOODS), "genres": [{"genre": rng.choice(GENRES), "weight": 1.0}],
                    "theme": f"burst song {i}", "duration_s": rng.randint(args.min_s, args.max_s), "seed": i}
            response = client.post("/api/v2/compositions", json=body)
            if response.status_code == 202:
                accepted.append(response.json()["id"])
            else:
                refused[f"{response.status_code} {response.json().get('type', '')}"] += 1
        submitted_s = time.monotonic() - started
        statuses: dict[str, str] = {}
        while time.monotonic() - started < args.timeout:
            for cid in accepted:
                if statuses.get(cid) not in ("completed", "failed", "cancelled"):
                    statuses[cid] = client.get(f"/api/v2/compositions/{cid}").json()["status"]
            cpu.sample()
            done = sum(s in ("completed", "failed", "cancelled") for s in statuses.values())
            print(f"\r{time.monotonic() - started:7.0f} s  {done}/{len(accepted)} finished", end="", flush=True)
            if done == len(accepted):
                break
            time.sleep(5)
        wall_s = time.monotonic() - started
        cpu_s = cpu.sample() - cpu_start
        print()
        database = create_engine(f"postgresql+psycopg2://cadenza@127.0.0.1:{pg_port}/cadenza")
        with database.connect() as connection:
            failures = Counter(dict(connection.execute(text(
                "SELECT payload->'error'->>'code', count(*) FROM composition_events WHERE type = 'StageFailed' "
                "GROUP BY 1")).all()))
            retried = connection.execute(text(
                "SELECT count(*) FROM composition_stages WHERE attempt > 1")).scalar_one()
        database.dispose()
        cores = os.cpu_count() or 1
        summary = {
            "n": args.n, "accepted": len(accepted), "refused": dict(refused), "submit_s": round(submitted_s, 1),
            "completed": sum(s == "completed" for s in statuses.values()),
            "failed": sum(s == "failed" for s in statuses.values()),
            "stages_retried": retried, "stage_failures_by_code": dict(failures),
            "deadline_failures": failures.get("deadline_exceeded", 0) + failures.get("queue_timeout", 0),
            "wall_s": round(wall_s, 1), "stack_cpu_s": round(cpu_s, 1), "cores": cores,
            "cpu_over_cores_s": round(cpu_s / cores, 1), "wall_over_cpu_per_core": round(wall_s / (cpu_s / cores), 2),
        }
        print(json.dumps(summary, indent=2))
        if args.json:
            args.json.write_text(json.dumps(summary, indent=2))
    finally:
        os.killpg(up.pid, signal.SIGINT)
        try:
            up.wait(120)
        except subprocess.TimeoutExpired:
            os.killpg(up.pid, signal.SIGKILL)


def wait_for(condition, timeout: float, up: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if up.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"cadenza up did not come up (exit {up.poll()})")
        time.sleep(1)


if __name__ == "__main__":
    main()
