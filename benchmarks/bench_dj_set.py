"""A DJ set of three songs made by the real engine, end to end in one process: the songs composed,
then the four set stages (the providers the ``sets`` worker runs); prints each stage's wall time and
what the set measures (beat alignment per transition, Camelot distances, loudness, true peak).

    .venv/bin/python benchmarks/bench_dj_set.py [--duration 30] [--bars 8] [--order auto] [--announcer]
        [--keep out/bench-set]

The songs ask for different tempos and keys (124 bpm A minor house, 118 bpm C major pop, 128 bpm
E minor funk) so the set has to stretch and order them.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SONGS = [("Night Drive", "house", 124, "A minor"), ("Open Road", "pop", 118, "C major"),
         ("Late Bloom", "funk", 128, "E minor")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--bars", type=int, default=8)
    parser.add_argument("--order", choices=("auto", "given"), default="auto")
    parser.add_argument("--announcer", action="store_true")
    parser.add_argument("--keep", type=Path, default=None, help="copy the set's files here")
    args = parser.parse_args()
    from composition.models import CompositionRequest, FormSection, GenreWeight, Mood
    from composition.sets import SetContext, SetRequest, SetTrack
    from music.dj.providers import providers
    from music.engine import compose
    from music.registry import default_registry
    from storage.local import LocalArtifactStore

    registry = default_registry()
    with tempfile.TemporaryDirectory() as folder:
        store = LocalArtifactStore(Path(folder) / "store")
        tracks, song_s = [], []
        for i, (title, genre, bpm, key) in enumerate(SONGS):
            request = CompositionRequest(mood=Mood.from_label("energetic"), theme="a night out", title=title,
                                         duration_s=args.duration, seed=11 + i, bpm=bpm, key=key,
                                         genres=[GenreWeight(genre=genre, weight=1.0)], voice="alto")
            cid = uuid.uuid4()
            began = time.perf_counter()
            ctx = compose(request, store, str(cid), registry).context
            song_s.append(time.perf_counter() - began)
            plan = ctx.plan
            master = next(a for a in ctx.master.outputs if a.name == "master.wav")
            tracks.append(SetTrack(composition_id=cid, title=title, master=master, tempo_bpm=plan.tempo_bpm,
                                   key=plan.key, mode=plan.mode, beats_per_bar=plan.beats_per_bar,
                                   duration_s=ctx.master.duration_s,
                                   form=[FormSection(**f.model_dump()) for f in plan.form]))
            print(f"song {title!r}: {genre}, {plan.tempo_bpm:g} bpm, {plan.key} {plan.mode}, "
                  f"{ctx.master.duration_s:.1f} s, composed in {song_s[-1]:.1f} s")
        ctx = SetContext(request=SetRequest(tracks=tracks, order=args.order, transition_bars=args.bars,
                                            announcer=args.announcer))
        stage_s = {}
        for provider in providers():
            began = time.perf_counter()
            ctx = ctx.with_section(provider.stage, provider.run(ctx, store, "bench-set"))
            stage_s[provider.stage.value] = time.perf_counter() - began
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for artifact in ctx.master.outputs:
                shutil.copyfile(store.path(artifact.uri), args.keep / artifact.name)
    m, order, plan = ctx.master, ctx.order, ctx.transitions
    for stage, seconds in stage_s.items():
        print(f"{stage:16s} {seconds:7.2f} s")
    print(f"{'set total':16s} {sum(stage_s.values()):7.2f} s   (songs {sum(song_s):.1f} s)")
    print(f"order {[tracks[i].title for i in order.order]}, camelot "
          f"{[ctx.analysis.tracks[i].camelot for i in order.order]}, key distances {m.key_distances}, "
          f"tempo steps {order.tempo_steps_bpm} bpm; set tempo {plan.tempo_bpm:g} bpm, stretch "
          f"{[round(t.stretch_ratio, 4) for t in plan.transitions]}")
    print(f"beat alignment per transition {m.beat_alignment_ms} ms: median {statistics.median(m.beat_alignment_ms):.2f}, "
          f"max {max(m.beat_alignment_ms):.2f} (aim: median < 10)")
    print(f"loudness {m.integrated_lufs:.2f} LUFS, true peak {m.true_peak_dbtp:.2f} dBTP, {m.duration_s:.1f} s; "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(json.dumps([e.model_dump(mode="json") for e in m.tracklist]))


if __name__ == "__main__":
    main()
