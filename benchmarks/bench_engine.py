"""Render a 3-minute song end to end in one process; print wall time per stage and peak memory.

    .venv/bin/python benchmarks/bench_engine.py [--duration 180] [--genre pop=0.7 --genre funk=0.3]
        [--voice alto] [--instrumental] [--seed 1] [--soundfont PATH]

Peak memory is the process's peak resident set (ru_maxrss), which includes the interpreter and the
loaded libraries. The SoundFont is whatever CADENZA_SOUNDFONT / the default picks (FluidR3 GM).
"""

from __future__ import annotations

import argparse
import resource
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
    args = parser.parse_args()
    started = time.perf_counter()
    from cadenza_cli.request_options import parse_genres
    from composition.models import CompositionRequest, GenreWeight, Mood
    from music.config import EngineConfig
    from music.offline import compose_offline
    from music.registry import default_registry
    from music.render import soundfont_path
    from storage.local import LocalArtifactStore

    soundfont = Path(args.soundfont) if args.soundfont else None
    registry = default_registry(EngineConfig(soundfont=soundfont))

    imports = time.perf_counter() - started
    request = CompositionRequest(
        mood=Mood.from_label(args.mood), theme="a summer road trip", duration_s=args.duration, seed=args.seed,
        genres=[GenreWeight(genre=g, weight=w) for g, w in parse_genres(args.genre or ["pop=0.7", "funk=0.3"])],
        voice=args.voice, instrumental=args.instrumental,
    )
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        song = compose_offline(request, Path(folder) / "song", LocalArtifactStore(Path(folder) / "store"), registry)
        total = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    m = song.context.master.metrics
    print(f"song: {args.duration:g} s requested, {m.duration_s:.1f} s made; {', '.join(args.genre or ['pop=0.7', 'funk=0.3'])}; "
          f"{'instrumental' if args.instrumental else args.voice}; SoundFont {soundfont_path(soundfont).name}")
    print(f"{'imports':14s} {imports:7.2f} s")
    for stage, seconds in song.stage_seconds.items():
        print(f"{stage:14s} {seconds:7.2f} s  {song.providers.get(stage, '')}")
    print(f"{'total':14s} {total:7.2f} s  (imports excluded)")
    print(f"peak RSS       {peak_mb:7.0f} MB")
    print(f"metrics: {m.integrated_lufs:.2f} LUFS, {m.true_peak_dbtp:.2f} dBTP, energy rho {m.energy_loudness_correlation:.2f}, "
          f"pitch error {m.vocal_pitch_error_cents if m.vocal_pitch_error_cents is None else round(m.vocal_pitch_error_cents, 1)} cents, "
          f"duration error {100 * m.duration_error:.1f}%")


if __name__ == "__main__":
    main()
