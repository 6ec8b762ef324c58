"""Voice profiles: does Cadenza sing like the reference it measured, more than like the nearest
stock voice? And is it still understood and in tune?

    .venv/bin/python benchmarks/bench_voice_profile.py [--references awb kal synth-a3 synth-low]
        [--singer flite] [--models tiny.en]

References (no human recordings ship with the project, so "a user's voice" is a voice none of the
singers starts from): flite's ``awb`` (Scottish English male) and ``kal`` (US English male, diphone)
reading a paragraph, and two WORLD-synthesised singers with known pitch and formants (A3 with
raised formants; a low breathy voice, 110 Hz base, 138 Hz median). Each is analysed into a profile
(``music.voiceprint``), then one song (generated lyrics, pop, 30 s, seed 1) is sung by the chosen
singer twice: with the profile, and with the stock voice nearest to it (``nearest_stock_voice``).

Speaker similarity is a documented spectral distance, not a neural speaker encoder (resemblyzer's
wheel needs torch, whose wheels are gigabytes; nothing else with shipped weights installs here):

- MFCC distance: Euclidean distance between the mean MFCC vectors (c1..c12 of a 40-band mel
  spectrum 60-7600 Hz, 25 ms frames, voiced frames only, 16 kHz) of the reference and of the sung
  lead; lower is more alike. It is the long-term timbre (envelope) a speaker-verification front end
  starts from.
- formant distance: mean |F_i(sung) / F_i(reference)| in semitones over F1-F3 (LPC, voiced frames).

Intelligibility (Whisper word error rate, ``music.intelligibility``) and pitch error
(``music.metrics_audio.vocal_pitch_error_cents``) as in bench_vocals.py.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from math import gcd
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TEXT = ("When the sunlight strikes raindrops in the air, they act as a prism and form a rainbow. The rainbow is a "
        "division of white light into many beautiful colors. These take the shape of a long round arch, with its "
        "path high above, and its two ends apparently beyond the horizon.")
RATE = 16000


def flite_reference(voice: str) -> np.ndarray:
    import soundfile as sf

    with tempfile.NamedTemporaryFile(suffix=".wav") as out:
        subprocess.run(["flite", "-voice", voice, "-t", TEXT, "-o", out.name], check=True)
        samples, rate = sf.read(out.name)
    return resample(samples, rate)


def synth_reference(name: str) -> np.ndarray:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "unit" / "music"))
    from voice_signals import voice

    if name == "synth-a3":
        return voice(220.0, 16.0, formants_hz=(800.0, 1450.0, 2950.0), vibrato=(6.0, 45.0), breath=0.05)
    return voice(110.0, 16.0, formants_hz=(450.0, 1350.0, 2350.0), vibrato=(5.0, 20.0), breath=0.2, tilt=-12.0)


def resample(samples: np.ndarray, rate: int, to: int = RATE) -> np.ndarray:
    from scipy.signal import resample_poly

    samples = samples.mean(axis=1) if samples.ndim > 1 else samples
    g = gcd(rate, to)
    return resample_poly(samples, to // g, rate // g) if rate != to else samples


def mel_filterbank(bands: int = 40, fft: int = 512, low: float = 60.0, high: float = 7600.0) -> np.ndarray:
    mel = lambda f: 2595 * np.log10(1 + f / 700)  # noqa: E731
    hz = lambda m: 700 * (10 ** (m / 2595) - 1)  # noqa: E731
    edges = hz(np.linspace(mel(low), mel(high), bands + 2))
    freqs = np.fft.rfftfreq(fft, 1 / RATE)
    bank = np.zeros((bands, len(freqs)))
    for b in range(bands):
        lo, mid, hi = edges[b:b + 3]
        bank[b] = np.clip(np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), 0, None)
    return bank


def mean_mfcc(x: np.ndarray) -> np.ndarray:
    """Mean MFCC c1..c12 over the voiced 25 ms frames (10 ms hop) of a 16 kHz signal."""
    from scipy.fft import dct

    from music.voiceprint.measure import HOP_S, track_pitch

    f0 = track_pitch(np.ascontiguousarray(x, dtype=np.float64), RATE)
    hop, width = int(RATE * HOP_S), int(RATE * 0.025)
    frames = [i for i in np.flatnonzero(f0 > 0) if i * hop + width <= len(x)]
    window = np.hamming(width)
    spectra = np.array([np.abs(np.fft.rfft(x[i * hop:i * hop + width] * window, 512)) ** 2 for i in frames])
    mel = np.log(spectra @ mel_filterbank().T + 1e-10)
    return dct(mel, type=2, norm="ortho", axis=1)[:, 1:13].mean(axis=0)


def voiced_formants(x: np.ndarray) -> list[float]:
    from music.voiceprint.measure import formants, track_pitch

    x = np.ascontiguousarray(x, dtype=np.float64)
    return formants(x, RATE, track_pitch(x, RATE) > 0)


def formant_distance(a: list[float], b: list[float]) -> float:
    return float(np.mean([abs(12 * np.log2(x / y)) for x, y in zip(a, b)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--references", nargs="*", default=["awb", "kal", "synth-a3", "synth-low"])
    parser.add_argument("--singer", default="flite", choices=["flite", "espeak", "formant"])
    parser.add_argument("--models", nargs="*", default=["tiny.en"])
    args = parser.parse_args()

    from composition.models import CompositionRequest, GenreWeight, Mood
    from music import intelligibility as asr
    from music.audio import SAMPLE_RATE
    from music.engine import SYMBOLIC_STAGES, compose
    from music.metrics_audio import vocal_pitch_error_cents
    from music.vocals import VOICE_PROFILES, sung_notes, vocal_duration_s, vocal_style
    from music.vocals.espeak import sing_espeak
    from music.vocals.flite import sing_flite
    from music.vocals.formant import sing_formant
    from music.vocals.profile_voice import nearest_stock_voice, profile_voice
    from music.voiceprint.analyse import analyse
    from music.voiceprint.recording import prepare
    from storage.local import LocalArtifactStore
    from tests.unit.music.voice_signals import wav

    sing = {"flite": sing_flite, "espeak": sing_espeak,
            "formant": lambda n, v, st, d, rate: sing_formant(n, v, st, d, 1, rate)}[args.singer]
    models = [m for m in args.models if asr.recogniser_available(m)]
    store = LocalArtifactStore(Path(tempfile.mkdtemp()) / "artifacts")
    voice_id = "00000000-0000-4000-8000-00000000beef"
    print(f"{'reference':10s} {'sung as':9s} {'f0 ref':>6s} {'f0 sung':>7s} {'MFCC d':>7s} {'formant st':>10s} "
          + " ".join(f"{'WER ' + m:>12s}" for m in models) + f" {'pitch c':>8s} {'analyse s':>9s} {'sing s':>7s}")
    wins = {"mfcc": 0, "formant": 0}
    for name in args.references:
        reference = synth_reference(name) if name.startswith("synth") else flite_reference(name)
        started = time.perf_counter()
        profile = analyse(prepare(wav(reference))).profile
        analyse_s = time.perf_counter() - started
        ref_mfcc, ref_formants = mean_mfcc(reference), voiced_formants(reference)
        stock = nearest_stock_voice(profile)
        rows = {}
        for label, voice, measured in (("profile", voice_id, profile), (stock, stock, None)):
            request = CompositionRequest(mood=Mood.from_label("happy"), theme="a summer road trip", duration_s=30,
                                         seed=1, voice=voice, voice_profile=measured,
                                         genres=[GenreWeight(genre="pop", weight=1.0)])
            ctx = compose(request, store, f"{name}-{label}", only=SYMBOLIC_STAGES).context
            notes = sung_notes(ctx)
            singer = profile_voice(voice_id, measured) if measured else VOICE_PROFILES[stock]
            started = time.perf_counter()
            audio = sing(notes, singer, vocal_style(ctx.plan.genres, singer), vocal_duration_s(ctx), SAMPLE_RATE)
            sing_s = time.perf_counter() - started
            sung = resample(audio.astype(np.float64), SAMPLE_RATE)
            spans = [(n.pitch, n.start_s, n.end_s) for n in notes]
            wers = [asr.sung_word_error(notes, audio, SAMPLE_RATE, m)[0] for m in models]
            mfcc = float(np.linalg.norm(mean_mfcc(sung) - ref_mfcc))
            formant = formant_distance(voiced_formants(sung), ref_formants)
            f0 = float(np.median([440 * 2 ** ((n.pitch - 69) / 12) for n in notes]))
            rows[label] = (mfcc, formant)
            print(f"{name:10s} {label:9s} {profile.f0_median_hz:6.0f} {f0:7.0f} {mfcc:7.2f} {formant:10.2f} "
                  + " ".join(f"{w:12.3f}" for w in wers)
                  + f" {vocal_pitch_error_cents(audio, SAMPLE_RATE, spans):8.1f} {analyse_s:9.1f} {sing_s:7.1f}",
                  flush=True)
        wins["mfcc"] += rows["profile"][0] < rows[stock][0]
        wins["formant"] += rows["profile"][1] < rows[stock][1]
    print(f"profile closer than the nearest stock voice: MFCC {wins['mfcc']}/{len(args.references)}, "
          f"formants {wins['formant']}/{len(args.references)}")


if __name__ == "__main__":
    main()
