"""API load: accepted POST /api/v2/compositions per second and latency percentiles on loopback.

Starts the API (`cadenza run api`, uvicorn) on a fresh database, creates a tenant without limits,
then drives it with asyncio + httpx at a fixed concurrency: every request is a full submit
(authentication, domain validation, the composition row and the outbox row in one transaction).
Reports accepted/s and p50/p95/p99/max latency; with --relay the outbox relay runs too and the
benchmark also reports how long it took to publish every accepted request to Kafka.

    .venv/bin/python benchmarks/bench_api.py --requests 5000 --concurrency 32 [--workers 2] [--relay] [--rate 1e6]

``--rate`` gives the tenant a write-rate limit (high enough never to refuse) so every request also
takes a token from its bucket in PostgreSQL (api/ratelimit.py): compare with ``--rate 0`` (no limit,
no bucket) for what the shared limiter costs per request.

Needs the services: `.venv/bin/cadenza infra start` (or KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import sqlalchemy  # noqa: E402

from infra.database import make_engine, make_session_factory  # noqa: E402
from infra.settings import ServiceSettings  # noqa: E402
from infra.stack import fresh_database  # noqa: E402
from infra.topics import Topics, ensure_topics  # noqa: E402
from tenancy.keys import create_tenant  # noqa: E402

BODY = {"mood": "happy", "genres": [{"genre": "pop", "weight": 0.7}, {"genre": "funk", "weight": 0.3}],
        "theme": "a summer road trip", "duration_s": 60, "seed": 42}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def load(url: str, key: str, total: int, concurrency: int) -> tuple[list[float], dict[int, int], float]:
    latencies: list[float] = []
    codes: dict[int, int] = {}
    remaining = total
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers={"X-API-Key": key}, limits=limits, timeout=30) as client:
        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                response = await client.post("/api/v2/compositions", json=BODY)
                latencies.append(time.perf_counter() - started)
                codes[response.status_code] = codes.get(response.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies, codes, time.perf_counter() - started


def take_ms(url: str, takes: int = 2000) -> None:
    """The shared rate limiter's own cost: sequential token takes from this process, as the API makes them."""
    from api.ratelimit import RateLimiter

    engine = make_engine(url, pool_size=1)
    limiter = RateLimiter(engine)
    times = []
    for _ in range(takes):
        started = time.perf_counter()
        limiter.acquire("bench", 1e9, 1_000_000)
        times.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    print(f"rate-limit token take (PostgreSQL, sequential): mean {statistics.mean(times):.2f} ms, "
          f"p50 {statistics.median(times):.2f} ms, p99 {percentile(times, 0.99):.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--relay", action="store_true", help="run the outbox relay to Kafka meanwhile")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="the tenant's writes/s limit (0: none); every request takes a token from PostgreSQL")
    args = parser.parse_args()

    with fresh_database(ServiceSettings().database_url, "cadenza_bench") as url:
        run(args, url)


def run(args: argparse.Namespace, url: str) -> None:
    engine = make_engine(url, pool_size=1)
    key = create_tenant(make_session_factory(engine), "bench", rate_per_s=args.rate, burst=1_000_000, max_in_flight=0)
    port = free_port()
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    env = {**os.environ, "DATABASE_URL": url, "CADENZA_TOPIC_PREFIX": prefix, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-m", "cadenza_cli.main", "run", "api", "--port", str(port),
                               "--workers", str(args.workers)], env=env, cwd=ROOT, start_new_session=True)]
    if args.relay:
        ensure_topics(ServiceSettings().bootstrap_servers, Topics(prefix))
        procs.append(subprocess.Popen([sys.executable, "-m", "cadenza_cli.main", "run", "relay"], env=env, cwd=ROOT,
                                      start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(base + "/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        if args.rate:
            take_ms(url)
        asyncio.run(load(base, key, args.warmup, args.concurrency))
        latencies, codes, wall = asyncio.run(load(base, key, args.requests, args.concurrency))
        accepted = codes.get(202, 0)
        ms = [v * 1000 for v in latencies]
        print(f"requests {args.requests}, concurrency {args.concurrency}, uvicorn workers {args.workers}, "
              f"relay {'on' if args.relay else 'off'}, rate limit {args.rate or 'none'}, cpus {os.cpu_count()}")
        print(f"status codes: {dict(sorted(codes.items()))}")
        print(f"accepted/s {accepted / wall:.0f}   latency ms: p50 {statistics.median(ms):.1f}  "
              f"p95 {percentile(ms, 0.95):.1f}  p99 {percentile(ms, 0.99):.1f}  max {max(ms):.1f}")
        if args.relay:
            started = time.perf_counter()
            with engine.connect() as conn:
                while conn.execute(sqlalchemy.text("SELECT count(*) FROM outbox WHERE sent_at IS NULL")).scalar_one():
                    time.sleep(0.2)
                    conn.rollback()
            print(f"outbox drained to Kafka {time.perf_counter() - started:.1f} s after the last 202")
    finally:
        for proc in reversed(procs):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)
        engine.dispose()


if __name__ == "__main__":
    main()
