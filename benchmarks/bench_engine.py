"""Compose a 3-minute song end to end in one process; print wall and CPU time per stage and peak memory.

    .venv/bin/python benchmarks/bench_engine.py [--duration 180] [--genre pop=0.7 --genre funk=0.3]
        [--voice alto] [--instrumental] [--seed 1] [--soundfont PATH] [--threads N] [--runs 1]

Stages run one after another in this process (``music.engine.compose``), the way one worker runs
one stage: render and master use ``--threads`` threads (default: the machine's cores, at most 4; 1
is one step at a time, as before the threads came). CPU is this process's user + system time over
all its threads (``time.process_time``) during the stage, so on a busy machine it shows the work
where wall time shows the queue for the cores. Peak memory is the process's peak resident set
(``ru_maxrss``), which includes the interpreter and the loaded libraries. With ``--runs N`` the song
is composed N times in the same process (the first run pays the one-time loads: CMUdict, WordNet,
pyworld); each run's figures are printed, then the per-stage median. The sha256 of master.wav is
printed so runs with different thread counts can be compared for identical output.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=180.0)
    parser.add_argument("--genre", action="append", default=None)
    parser.add_argument("--mood", default="happy")
    parser.add_argument("--voice", default="alto")
    parser.add_argument("--instrumental", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--soundfont", default=None)
    parser.add_argument("--threads", type=int, default=None, help="threads of render and master (default: cores, max 4)")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    from cadenza_cli.request_options import parse_genres
    from composition.models import CompositionRequest, GenreWeight, Mood
    from music.config import EngineConfig
    from music.engine import compose
    from music.offline import write_song_folder
    from music.render import soundfont_path
    from storage.local import LocalArtifactStore

    soundfont = Path(args.soundfont) if args.soundfont else None
    config = EngineConfig(soundfont=soundfont, threads=args.threads)
    from music.registry import default_registry

    registry = default_registry(config)
    imports = time.perf_counter() - started
    genres = args.genre or ["pop=0.7", "funk=0.3"]
    request = CompositionRequest(
        mood=Mood.from_label(args.mood), theme="a summer road trip", duration_s=args.duration, seed=args.seed,
        genres=[GenreWeight(genre=g, weight=w) for g, w in parse_genres(genres)],
        voice=args.voice, instrumental=args.instrumental,
    )
    print(f"song: {args.duration:g} s requested; {', '.join(genres)}; {'instrumental' if args.instrumental else args.voice}; "
          f"SoundFont {soundfont_path(soundfont).name}; threads {args.threads or 'default'} ({os.cpu_count()} cores); "
          f"load average {os.getloadavg()[0]:.1f}; imports {imports:.2f} s")
    walls: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            store = LocalArtifactStore(Path(folder) / "store")
            began, cpu = time.perf_counter(), time.process_time()
            result = compose(request, store, f"bench-{run}", registry)
            written, written_cpu = time.perf_counter(), time.process_time()
            write_song_folder(result.context, store, Path(folder) / "song", result.timings_s, result.providers)
            timings = {**result.timings_s, "write": time.perf_counter() - written, "total": time.perf_counter() - began}
            cpu_s = {**result.cpu_s, "write": time.process_time() - written_cpu, "total": time.process_time() - cpu}
        master = result.context.master
        print(f"run {run + 1}: load average {os.getloadavg()[0]:.1f}; master.wav sha256 "
              f"{next(a.sha256 for a in master.outputs if a.name == 'master.wav')[:16]}")
        print(f"  {'stage':12s} {'wall s':>7s} {'cpu s':>7s}")
        for stage, seconds in timings.items():
            walls.setdefault(stage, []).append(seconds)
            cpus.setdefault(stage, []).append(cpu_s[stage])
            print(f"  {stage:12s} {seconds:7.2f} {cpu_s[stage]:7.2f}  {result.providers.get(stage, '')}")
    if args.runs > 1:
        print(f"median of {args.runs} runs:")
        for stage in walls:
            print(f"  {stage:12s} {statistics.median(walls[stage]):7.2f} {statistics.median(cpus[stage]):7.2f}")
    m = master.metrics
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(f"metrics: {m.integrated_lufs:.2f} LUFS, {m.true_peak_dbtp:.2f} dBTP, energy rho {m.energy_loudness_correlation:.2f}, "
          f"pitch error {m.vocal_pitch_error_cents if m.vocal_pitch_error_cents is None else round(m.vocal_pitch_error_cents, 1)} cents, "
          f"{m.duration_s:.1f} s made, duration error {100 * m.duration_error:.1f}%")


if __name__ == "__main__":
    main()
