"""Synthetic "recordings" for the voice analysis tests: a WORLD-synthesised voice with known pitch,
formants, vibrato and breath, phrases with pauses (as a person sings), and mixes of two such voices."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf

RATE = 16000
HOP_MS = 5.0


def envelope(bins: int, rate: int, formants_hz: tuple[float, ...], tilt_db_per_octave: float) -> np.ndarray:
    """A vowel-like spectral envelope (power): formant peaks on a sloping source."""
    freqs = np.arange(bins) * rate / (2 * (bins - 1))
    db = tilt_db_per_octave * np.log2(np.maximum(freqs, 100.0) / 100.0)
    for k, f in enumerate(formants_hz):
        db += (24.0 - 4 * k) * np.exp(-0.5 * ((freqs - f) / (60.0 + 0.04 * f)) ** 2)
    return 10 ** ((db - 40.0) / 10)


def voice(f0_hz: float, seconds: float, *, formants_hz=(700.0, 1200.0, 2600.0), vibrato=(5.5, 40.0),
          breath: float = 0.05, tilt: float = -9.0, pause_every_s: float = 1.6, steps=(0, 2, 4, 5, 7, 5, 4, 2),
          rate: int = RATE, level: float = 0.3) -> np.ndarray:
    """A sung phrase of notes (semitone ``steps`` around ``f0_hz``) with vibrato, short pauses between
    phrases, a fixed vowel; peak ``level``."""
    import pyworld

    frames = int(seconds * 1000 / HOP_MS)
    t = np.arange(frames) * HOP_MS / 1000
    note = (t // 0.4).astype(int) % len(steps)
    cents = 100.0 * np.array(steps)[note] + vibrato[1] * np.sin(2 * np.pi * vibrato[0] * t)
    f0 = f0_hz * 2 ** (cents / 1200)
    f0[(t % pause_every_s) > pause_every_s - 0.2] = 0.0
    fft = pyworld.get_cheaptrick_fft_size(rate)
    bins = fft // 2 + 1
    sp = np.tile(envelope(bins, rate, formants_hz, tilt), (frames, 1))
    sp[f0 == 0] = 1e-12
    ap = np.full((frames, bins), breath)
    y = pyworld.synthesize(np.ascontiguousarray(f0), sp, ap, rate, HOP_MS)
    return level * y / np.max(np.abs(y))


def two_voices(seconds: float) -> np.ndarray:
    """Two singers at once, a fifth and some apart, different vowels, equal level."""
    a = voice(220.0, seconds, formants_hz=(700.0, 1200.0, 2600.0))
    b = voice(330.0 * 2 ** (1 / 12), seconds, formants_hz=(400.0, 2000.0, 2800.0), steps=(0, -1, -3, -5, -3, 0, 2, 0),
              vibrato=(6.2, 30.0))
    n = min(len(a), len(b))
    mix = a[:n] + b[:n]
    return 0.5 * mix / np.max(np.abs(mix))


def flac(samples: np.ndarray, rate: int = RATE) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples.astype(np.float32), rate, format="FLAC")
    return buffer.getvalue()


def wav(samples: np.ndarray, rate: int = RATE, subtype: str = "PCM_16") -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples.astype(np.float32), rate, format="WAV", subtype=subtype)
    return buffer.getvalue()
