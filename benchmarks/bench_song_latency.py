"""A real 3-minute song through the whole stack: request published to master done, per stage.

Runs the real saga and one stage worker per song stage (as `cadenza up` does: one process per stage,
a pool of one) with the real music engine (``music.registry:default_registry``) against the real
broker, publishes one CompositionRequested at a time (after a short warm-up song, so start-up,
imports and one-time loads are not measured), and reads the public event stream and the stage
results. Per song it reports:

- request -> master: from publishing the request to the master's StageCompleted (its finished_at)
  and to CompositionCompleted arriving at a read_committed consumer;
- per stage: its work (StageCompleted finished_at - started_at), when it started after the request,
  and the CPU its worker used meanwhile (process and pool child, all threads: psutil; this includes
  the process's idle cost over the whole song, a few % of a core, which is what a stage that works
  0.1 s shows);
- the peak resident memory of each stage's pool process (VmHWM).

Then the median over the songs. A busy machine shows in wall time (queueing for the cores) far more
than in CPU time; both are printed, with the load average.

    .venv/bin/python benchmarks/bench_song_latency.py [--songs 3] [--duration 180] [--instrumental]

Needs Kafka: `.venv/bin/cadenza infra start` (or KAFKA_BOOTSTRAP_SERVERS; the port variables apply).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.measure import cpu_seconds  # noqa: E402
from composition.events import CompositionRequested  # noqa: E402
from composition.models import SONG_STAGES, CompositionRequest, GenreWeight, Mood  # noqa: E402
from infra.settings import ServiceSettings  # noqa: E402
from infra.topics import REQUESTS  # noqa: E402
from tests.integration.pipeline_harness import Pipeline  # noqa: E402


def peak_rss_mb(pid: int) -> float:
    """The largest peak resident set (VmHWM) of a process and its children, in MB."""
    peaks = []
    try:
        for proc in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
            try:
                status = Path(f"/proc/{proc.pid}/status").read_text()
                peaks.append(int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024)
            except (OSError, StopIteration):
                pass
    except psutil.NoSuchProcess:
        pass
    return max(peaks, default=0.0)


def song_request(duration: float, seed: int, instrumental: bool) -> CompositionRequest:
    return CompositionRequest(mood=Mood.from_label("happy"), theme="a summer road trip", duration_s=duration, seed=seed,
                              genres=[GenreWeight(genre="pop", weight=0.7), GenreWeight(genre="funk", weight=0.3)],
                              voice="alto", instrumental=instrumental)


def run_song(pipe: Pipeline, request: CompositionRequest, workers: dict, timeout: float) -> dict:
    """Publish one request, wait for its end; its timings, CPU per stage worker and the load."""
    cpu_before = {stage: cpu_seconds(proc.popen.pid) for stage, proc in workers.items()}
    event = CompositionRequested(composition_id=uuid.uuid4(), tenant_id="bench", request=request)
    sent = time.time()
    pipe.publisher.publish(pipe.prefix + REQUESTS, event)
    pipe.publisher.flush(timeout=120.0)  # a busy machine's broker can take its time
    cid = event.composition_id
    end = pipe.wait_terminal(cid, timeout=timeout)
    arrived = time.time()
    if type(end).__name__ != "CompositionCompleted":
        why = f"{end.stage}: {end.error}" if hasattr(end, "error") else ""
        raise SystemExit(f"song {cid} ended {type(end).__name__} {why}:\n{pipe.logs()}")
    done = {e.stage.value: e for e in pipe.of_type(cid, "StageCompleted", source="results")}
    master = done["master"].finished_at.timestamp()
    return {
        "to_master": master - sent,
        "to_completed": arrived - sent,
        "load": os.getloadavg()[0],
        "stages": {stage: {"start": e.started_at.timestamp() - sent,
                           "work": (e.finished_at - e.started_at).total_seconds(),
                           "cpu": cpu_seconds(workers[stage].popen.pid) - cpu_before[stage]}
                   for stage, e in done.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--songs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=180.0)
    parser.add_argument("--instrumental", action="store_true")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--deadline-scale", type=float, default=10.0,
                        help="stretch the stages' deadlines (a busy machine misses them; not measured here)")
    args = parser.parse_args()

    pipe = Pipeline(ServiceSettings().bootstrap_servers, Path(tempfile.mkdtemp(prefix="bench-song-")), extra_env={
        "CADENZA_PROVIDERS": "music.registry:default_registry",
        "CADENZA_POOL_SIZE": "1",
        "CADENZA_LOG_LEVEL": "error",
        "CADENZA_DEADLINE_SCALE": str(args.deadline_scale),
    })
    results = []
    try:
        pipe.start_saga()
        workers = {stage.value: pipe.start(stage.value, "stage", stage.value) for stage in SONG_STAGES}
        print(f"warm-up song (20 s) ... load average {os.getloadavg()[0]:.1f}", flush=True)
        run_song(pipe, song_request(20.0, 99, args.instrumental), workers, args.timeout)
        for n in range(args.songs):
            song = run_song(pipe, song_request(args.duration, n + 1, args.instrumental), workers, args.timeout)
            results.append(song)
            stages = "  ".join(f"{s} {v['work']:.1f}s/{v['cpu']:.1f}cpu@{v['start']:.1f}" for s, v in song["stages"].items())
            print(f"song {n + 1}: request->master {song['to_master']:.2f} s, ->completed read {song['to_completed']:.2f} s, "
                  f"load {song['load']:.1f}\n  {stages}", flush=True)
        peaks = {stage: peak_rss_mb(proc.popen.pid) for stage, proc in workers.items()}
    finally:
        pipe.close()

    def median(values):
        return statistics.median(values)

    print(f"\nmedian of {len(results)} songs of {args.duration:g} s "
          f"({'instrumental' if args.instrumental else 'sung'}; {os.cpu_count()} cores, load average "
          f"{median([r['load'] for r in results]):.1f} at the songs' ends):")
    print(f"  request -> master done      {median([r['to_master'] for r in results]):7.2f} s")
    print(f"  request -> completed read   {median([r['to_completed'] for r in results]):7.2f} s")
    print(f"  {'stage':12s} {'starts at':>9s} {'work s':>7s} {'cpu s':>7s} {'peak RSS':>9s}")
    for stage in results[0]["stages"]:
        rows = [r["stages"][stage] for r in results if stage in r["stages"]]
        print(f"  {stage:12s} {median([x['start'] for x in rows]):9.2f} {median([x['work'] for x in rows]):7.2f} "
              f"{median([x['cpu'] for x in rows]):7.2f} {peaks.get(stage, 0):7.0f} MB")


if __name__ == "__main__":
    main()
