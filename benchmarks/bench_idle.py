"""What an idle stack costs (issue 10.5): the CPU of `cadenza up` with no work, per process.

Starts `cadenza up` (per-stage workers) on its own ports and run dir, lets it settle, then measures
each process's CPU over ``--seconds`` with nothing to do (Kafka and PostgreSQL reported apart from
our own processes), as a percentage of one core.

    .venv/bin/python benchmarks/bench_idle.py [--seconds 60] [--settle 30] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from benchmarks.up_stack import UpStack  # noqa: E402


def label(proc: psutil.Process) -> str:
    try:
        cmd = proc.cmdline()
    except psutil.Error:
        return "?"
    text = " ".join(cmd)
    if "kafka.Kafka" in text:
        return "kafka"
    if "postgres" in (cmd[0] if cmd else ""):
        return "postgres"
    if "multiprocessing" in text:
        return "pool"
    if "cadenza_cli.main" in text:
        after = cmd[cmd.index("-m") + 2:] if "-m" in cmd else cmd[1:]
        return " ".join(a for a in after if not a.startswith("-"))[:40] or "cadenza"
    return os.path.basename(cmd[0]) if cmd else "?"


def cpu_by_process(root: int) -> dict[int, tuple[str, float]]:
    found = {}
    try:
        procs = [psutil.Process(root), *psutil.Process(root).children(recursive=True)]
    except psutil.NoSuchProcess:
        return found
    for proc in procs:
        try:
            times = proc.cpu_times()
            found[proc.pid] = (label(proc), times.user + times.system)
        except psutil.Error:
            pass
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--settle", type=float, default=30)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    with UpStack("idle") as stack:
        time.sleep(args.settle)
        before = cpu_by_process(stack.pid)
        started = time.monotonic()
        time.sleep(args.seconds)
        after = cpu_by_process(stack.pid)
        elapsed = time.monotonic() - started
    per: dict[str, float] = {}
    for pid, (name, cpu) in after.items():
        used = cpu - before.get(pid, (name, 0.0))[1]
        per[name] = per.get(name, 0.0) + used
    ours = {k: v for k, v in per.items() if k not in ("kafka", "postgres")}
    summary = {
        "seconds": round(elapsed, 1),
        "percent_of_one_core": {k: round(100 * v / elapsed, 2) for k, v in sorted(per.items(), key=lambda kv: -kv[1])},
        "ours_percent": round(100 * sum(ours.values()) / elapsed, 2),
        "services_percent": round(100 * (per.get("kafka", 0) + per.get("postgres", 0)) / elapsed, 2),
        "all_percent": round(100 * sum(per.values()) / elapsed, 2),
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
