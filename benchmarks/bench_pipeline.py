"""Orchestration throughput: N compositions through the full DAG with instant stage providers.

Runs the real saga and stage-worker processes (exactly-once on) against the real broker, publishes N
CompositionRequested as fast as the publisher goes, and reads the public event stream until every
composition is terminal. Reports compositions/s, end-to-end latency p50/p99 (publish to the
CompositionCompleted arriving at a read_committed consumer), events/s over all topics, and CPU
seconds per process (the stage worker's pool processes included).

    .venv/bin/python benchmarks/bench_pipeline.py --n 500 [--stage-workers 1] [--commit-interval 0.05] [--json out.json]

Needs the services: `.venv/bin/cadenza infra start` (or KAFKA_BOOTSTRAP_SERVERS).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.measure import cpu_seconds, percentile  # noqa: E402
from composition.events import CompositionRequested  # noqa: E402
from composition.models import CompositionRequest, GenreWeight, Mood  # noqa: E402
from infra.settings import ServiceSettings  # noqa: E402
from infra.topics import REQUESTS  # noqa: E402
from schemas.serde import decode  # noqa: E402
from tests.integration.pipeline_harness import Pipeline  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--stage-workers", type=int, default=1)
    parser.add_argument("--commit-interval", type=float, default=0.05)
    parser.add_argument("--rate", type=float, default=0.0, help="offered compositions/s (0: all at once)")
    parser.add_argument("--instrumental", action="store_true")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--json", type=Path, help="also write the summary as JSON to this file (bench_vs_celery.py reads it)")
    args = parser.parse_args()

    settings = ServiceSettings()
    bootstrap = settings.bootstrap_servers
    pipe = Pipeline(bootstrap, Path(tempfile.mkdtemp(prefix="bench-pipeline-")), extra_env={
        "CADENZA_COMMIT_INTERVAL_S": str(args.commit_interval),
        "CADENZA_LOG_LEVEL": "error",
        "CADENZA_POOL_SIZE": "1",
    })
    try:
        saga = pipe.start_saga()
        workers = [pipe.start_stages() for _ in range(args.stage_workers)]
        # warm-up: one composition end to end, so start-up and rebalance are not measured
        warm = pipe.request()
        pipe.wait_terminal(warm, timeout=120)
        from infra.kafka.broker import LocalBroker

        pids = {f"{p.name}{i}": p.popen.pid for i, p in enumerate([saga, *workers])}
        broker = LocalBroker.from_settings(settings)
        if broker.pid():
            pids["kafka"] = broker.pid()
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}

        request = CompositionRequest(mood=Mood.from_label("happy"), genres=[GenreWeight(genre="pop", weight=1.0)],
                                     theme="benchmark", duration_s=30, instrumental=args.instrumental, seed=1)
        sent_at: dict[uuid.UUID, float] = {}
        done_at: dict[uuid.UUID, float] = {}
        messages = 0
        failed = 0
        consumer = pipe._consumer
        started = time.perf_counter()
        published = None
        deadline = started + args.timeout
        while len(done_at) < args.n and time.perf_counter() < deadline:
            while len(sent_at) < args.n and (not args.rate or len(sent_at) < (time.perf_counter() - started) * args.rate + 1):
                event = CompositionRequested(composition_id=uuid.uuid4(), tenant_id="bench", request=request)
                pipe.publisher.publish(pipe.prefix + REQUESTS, event)
                pipe.publisher.poll()
                sent_at[event.composition_id] = time.perf_counter()
            if published is None and len(sent_at) == args.n:
                pipe.publisher.flush()
                published = time.perf_counter()
            for message in consumer.consume(500, 0.05):
                if message.error():
                    continue
                messages += 1
                name = dict(message.headers() or []).get("event-type", b"").decode()
                if name in ("CompositionCompleted", "CompositionFailed", "CompositionCancelled"):
                    cid = decode(message.value()).composition_id
                    if cid in sent_at and cid not in done_at:
                        done_at[cid] = time.perf_counter()
                        if name != "CompositionCompleted":
                            failed += 1
                            print(f"  {cid}: {name}")
        finished = time.perf_counter()
        cpu_after = {name: cpu_seconds(pid) for name, pid in pids.items()}
    finally:
        pipe.close()

    latencies = [done_at[c] - sent_at[c] for c in done_at]
    wall = finished - started
    stages = 6 if args.instrumental else 8
    # per composition: 1 request + per stage (request + result) + progress/lifecycle events on the public stream
    print(f"compositions: {len(done_at)}/{args.n} terminal in {wall:.2f} s (published in {(published or finished) - started:.2f} s)")
    print(f"throughput:   {len(done_at) / wall:.1f} compositions/s")
    if latencies:
        print(f"latency:      p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {percentile(latencies, 0.99) * 1000:.0f} ms, "
              f"max {max(latencies) * 1000:.0f} ms")
    total_events = len(done_at) * (1 + 2 * stages) + messages
    print(f"events:       {messages} on events+results topics read; ~{total_events / wall:.0f} events/s over all topics "
          f"(1 request + {stages} stage requests per composition added)")
    for name in cpu_after:
        used = cpu_after[name] - cpu_before[name]
        print(f"cpu {name:10s} {used:.1f} s ({100 * used / wall:.0f}% of one core)")
    if args.json:
        args.json.write_text(json.dumps({
            "system": "cadenza", "n": args.n, "rate": args.rate, "terminal": len(done_at), "failed": failed,
            "wall_s": round(wall, 3), "throughput_per_s": round(len(done_at) / wall, 2),
            "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 1) if latencies else None,
            "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
            "cpu_s": {name: round(cpu_after[name] - cpu_before[name], 3) for name in cpu_after},
            "events_per_s": round(total_events / wall),
        }) + "\n")


if __name__ == "__main__":
    main()
