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
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psutil  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from composition.models import GENRES, MOOD_LABELS  # noqa: E402
from benchmarks.up_stack import UpStack  # noqa: E402

MOODS = sorted(MOOD_LABELS)



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
    parser.add_argument("--metrics-base-port", type=int, default=23100,
                        help="the stack's /metrics ports from here up (the saga's retry and timeout counters are read there)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    up_args = ("--metrics-base-port", str(args.metrics_base_port), "--pool-size", str(args.pool_size))
    with UpStack("burst", *up_args, CADENZA_API_MAX_BACKLOG=str(args.max_backlog), CADENZA_LOG_LEVEL="warn") as stack:
        client = httpx.Client(base_url=stack.api_url, headers={"X-API-Key": stack.tenant("burst")}, timeout=30)
        rng = random.Random(15)
        cpu = StackCpu(stack.pid)
        cpu_start = cpu.sample()
        started = time.monotonic()
        accepted, refused = [], Counter()
        for i in range(args.n):
            body = {"mood": rng.choice(MOODS), "genres": [{"genre": rng.choice(list(GENRES)), "weight": 1.0}],
                    "theme": f"burst song {i}", "duration_s": rng.randint(args.min_s, args.max_s), "seed": i}
            response = client.post("/api/v2/compositions", json=body)
            if response.status_code == 202:
                accepted.append(response.json()["id"])
            else:
                problem = response.json()
                refused[f"{response.status_code} {problem.get('type', '')}"] += 1
                if response.status_code != 429:
                    print(f"refused: {problem.get('detail')}", file=sys.stderr)
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
        database = create_engine(stack.database_url)
        with database.connect() as connection:
            retried = connection.execute(text(
                "SELECT count(*) FROM composition_stages WHERE attempt > 1")).scalar_one()
        database.dispose()
        counters = scrape(args.metrics_base_port)
        failures = Counter({dict(labels).get("code", "?"): v for (name, labels), v in counters.items()
                            if name == "cadenza_stage_failures_total"})
        cores = os.cpu_count() or 1
        summary = {
            "n": args.n, "accepted": len(accepted), "refused": dict(refused), "submit_s": round(submitted_s, 1),
            "completed": sum(s == "completed" for s in statuses.values()),
            "failed": sum(s == "failed" for s in statuses.values()),
            "stages_retried": retried, "stage_failures_by_code": dict(failures),
            "retries_dispatched": sum(v for (name, _), v in counters.items() if name == "cadenza_stage_retries_total"),
            "deadlines_passed": sum(v for (name, _), v in counters.items() if name == "cadenza_stage_timeouts_total"),
            "deadline_failures": failures.get("deadline_exceeded", 0) + failures.get("queue_timeout", 0),
            "wall_s": round(wall_s, 1), "stack_cpu_s": round(cpu_s, 1), "cores": cores,
            "cpu_over_cores_s": round(cpu_s / cores, 1), "wall_over_cpu_per_core": round(wall_s / (cpu_s / cores), 2),
        }
        print(json.dumps(summary, indent=2))
        if args.json:
            args.json.write_text(json.dumps(summary, indent=2))


def scrape(base: int, count: int = 24) -> dict[tuple[str, frozenset], float]:
    """Every counter sample of the stack's /metrics ports (base .. base+count), summed over processes."""
    from prometheus_client.parser import text_string_to_metric_families

    found: dict[tuple[str, frozenset], float] = {}
    for port in range(base, base + count):
        try:
            body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
        except httpx.HTTPError:
            continue
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    key = (sample.name, frozenset(sample.labels.items()))
                    found[key] = found.get(key, 0.0) + sample.value
    return found


if __name__ == "__main__":
    main()
