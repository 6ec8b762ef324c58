"""Cadenza against the Celery way it replaces: the same 8-stage DAG with instant stages, in one run.

Runs, for each offered rate, the Celery + Redis baseline (benchmarks/celery_baseline/bench_celery.py,
its own venv and redis-server) and then Cadenza's orchestration benchmark (bench_pipeline.py: the real
saga and one all-stages worker, exactly-once, on the real broker), both as subprocesses with the same
N, and prints both and the ratio Cadenza/Celery for throughput, latency p50/p99 and CPU per
composition (Celery: worker + redis-server; Cadenza: saga + stage worker + Kafka broker).

    .venv/bin/python benchmarks/bench_vs_celery.py --n 300 [--rates 0 5]

Uses KAFKA_BOOTSTRAP_SERVERS if set (the broker's CPU is then counted only if it is the project's own
broker under CADENZA_RUN_DIR); otherwise starts the project's broker (CADENZA_KAFKA_PORT), warms its
JVM with 100 unreported compositions, and stops it at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra.kafka.broker import LocalBroker  # noqa: E402
from infra.settings import ServiceSettings  # noqa: E402

BENCHES = {
    "celery": ROOT / "benchmarks" / "celery_baseline" / "bench_celery.py",
    "cadenza": ROOT / "benchmarks" / "bench_pipeline.py",
}
ROWS = (  # label, how a summary gives it, which way is better
    ("throughput (compositions/s)", lambda s: s["throughput_per_s"], "higher"),
    ("latency p50 (ms)", lambda s: s["p50_ms"], "lower"),
    ("latency p99 (ms)", lambda s: s["p99_ms"], "lower"),
    ("CPU per composition (ms)", lambda s: 1000 * sum(s["cpu_s"].values()) / max(s["terminal"], 1), "lower"),
)


def run(title: str, args: list[str], env: dict[str, str], bench: Path) -> dict:
    """Run one benchmark as a subprocess (its output shown as it goes) and return its JSON summary."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        print(f"\n=== {title}: {' '.join(args)}", flush=True)
        result = subprocess.run([sys.executable, str(bench), *args, "--json", out.name], env=env, cwd=ROOT)
        if result.returncode != 0:
            raise SystemExit(f"{title} failed with exit code {result.returncode}")
        return json.loads(Path(out.name).read_text())


def _number(value: float | None) -> str:
    return f"{value:10.1f}" if value is not None else f"{'-':>10s}"


def table(rate: float, n: int, celery: dict, cadenza: dict) -> str:
    lines = [f"{'all at once' if not rate else f'offered {rate:g}/s'}, n={n}",
             f"  {'':30s} {'Cadenza':>10s} {'Celery':>10s} {'Cadenza/Celery':>15s}"]
    for label, value, better in ROWS:
        ours, theirs = value(cadenza), value(celery)
        ratio = f"{ours / theirs:.2f}x" if ours is not None and theirs else "-"
        lines.append(f"  {label:30s} {_number(ours)} {_number(theirs)} {ratio:>9s} ({better} is better)")
    for summary in (cadenza, celery):
        parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in summary["cpu_s"].items())
        failed = f", {summary['failed']} failed" if summary["failed"] else ""
        lines.append(f"  {summary['system']}: {summary['terminal']}/{n} terminal{failed}; CPU {parts}")
    if "kafka" not in cadenza["cpu_s"]:
        lines.append("  (the external broker's CPU was not measured: Cadenza's CPU per composition leaves it out)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=300, help="compositions per run (both systems, every rate)")
    parser.add_argument("--rates", type=float, nargs="+", default=[0.0, 5.0], help="offered compositions/s (0: all at once)")
    parser.add_argument("--redis-port", type=int, default=int(os.environ.get("CELERY_BASELINE_REDIS_PORT", "26379")))
    args = parser.parse_args()
    if args.n < 1 or any(rate < 0 for rate in args.rates):
        parser.error("--n must be >= 1 and every rate >= 0")

    env = dict(os.environ)
    settings = ServiceSettings()
    broker, started = LocalBroker.from_settings(settings), False
    if not settings.kafka_external:
        if not broker.running():  # a running one is someone's: use it and leave it running
            print(f"starting Kafka on {broker.bootstrap} (run dir {broker.home.parent})", flush=True)
            started = True
        env["KAFKA_BOOTSTRAP_SERVERS"] = broker.start()
    results = []
    try:
        if started:  # a fresh broker's JVM has not compiled its hot paths yet: warm it, report nothing
            run("cadenza (warm-up of the fresh broker, not reported)", ["--n", "100"], env, BENCHES["cadenza"])
        for rate in args.rates:
            common = ["--n", str(args.n), "--rate", str(rate)]
            celery = run("celery", [*common, "--redis-port", str(args.redis_port)], env, BENCHES["celery"])
            cadenza = run("cadenza", common, env, BENCHES["cadenza"])
            results.append((rate, celery, cadenza))
    finally:
        if started:
            broker.stop()
    print("\nCadenza vs Celery, same DAG, instant stages, one run (numbers from a shared machine are noisy)")
    for rate, celery, cadenza in results:
        print(table(rate, args.n, celery, cadenza))


if __name__ == "__main__":
    main()
