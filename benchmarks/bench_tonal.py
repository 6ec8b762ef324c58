"""Songs rendered at a requested bpm, key and meter; the tempo and key heard in each master.

    .venv/bin/python benchmarks/bench_tonal.py [--duration 30]

Estimators: music/metrics_tonal.py. A tempo counts as heard when within 4 % of the request (an
octave error counts as wrong); a key when tonic and mode family match (dorian is heard as minor,
mixolydian as major).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CASES = [("pop-happy", 96, "F# minor", None, False), ("pop-funk", 140, "Bb major", None, True),
         ("ballad-waltz", 72, "D dorian", "3/4", False), ("folk-lofi", 118, "E major", "4/4", True),
         ("rock-short", 160, "C minor", None, True), ("pop-happy", 60, "G mixolydian", None, True),
         ("pop-funk", 84, "A minor", None, False), ("folk-lofi", 126, "Eb major", "3/4", False),
         ("house-instrumental", 124, "C# minor", None, True), ("ballad-waltz", 66, "Ab major", None, False),
         ("rock-short", 132, "E minor", None, False), ("lofi-instrumental", 80, "F major", None, True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0)
    args = parser.parse_args()

    import soundfile as sf

    from music.engine import compose
    from music.metrics_tonal import (
        estimate_key,
        estimate_tempo,
        mode_family,
        tempo_error,
    )
    from music.theory import pitch_class
    from storage.local import LocalArtifactStore
    from tests.unit.music.symbolic_songs import request

    store = LocalArtifactStore(tempfile.mkdtemp(prefix="cadenza-bench-tonal-"))
    tempo_ok = key_ok = 0
    print(f"{'song':20} {'sung':>4} {'meter':>5} {'bpm':>5} {'heard':>7} {'key asked':>13} {'key heard':>10} {'s':>5}")
    for i, (name, bpm, key, meter, instrumental) in enumerate(CASES):
        started = time.perf_counter()
        ctx = compose(request(name, bpm=bpm, key=key, meter=meter, duration_s=args.duration, instrumental=instrumental),
                      store, f"tonal-{i}").context
        master = next(a for a in ctx.master.outputs if a.name == "master.wav")
        audio, sr = sf.read(io.BytesIO(store.get(master.uri)))
        tempo, found = estimate_tempo(audio, sr), estimate_key(audio, sr)
        tonic, mode = key.split()
        t_ok = tempo_error(tempo, bpm) <= 0.04
        k_ok = (found.tonic, found.mode) == (pitch_class(tonic), mode_family(mode))
        tempo_ok += t_ok
        key_ok += k_ok
        print(f"{name:20} {'no' if instrumental else 'yes':>4} {ctx.plan.beats_per_bar}/4 {bpm:5.0f} {tempo:7.1f}{' ' if t_ok else '!'}"
              f"{key:>13} {found.name:>10}{' ' if k_ok else '!'} {time.perf_counter() - started:5.1f}")
    print(f"tempo heard as asked: {tempo_ok}/{len(CASES)}, key heard as asked: {key_ok}/{len(CASES)}")


if __name__ == "__main__":
    main()
