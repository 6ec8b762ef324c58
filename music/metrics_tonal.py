"""Tempo and key heard in audio, to confirm a song sounds at the bpm and in the key it was asked for.

- :func:`estimate_tempo`: an onset-strength envelope (half-wave rectified log-spectral flux, 86
  frames a second) is autocorrelated; each candidate tempo between 50 and 220 bpm scores the
  autocorrelation at its beat lag, weighted by a log-normal preference around 120 bpm (0.9 octaves)
  so a felt beat wins over its double or half; the best lag is refined to a fraction of a frame by a
  parabola through its neighbours. (Adding bar-level lags was tried and scored worse on
  benchmarks/bench_tonal.py's songs.) Very slow songs can be heard at double time, as people do.
- :func:`estimate_key`: a chroma vector (spectral magnitude 50 Hz-2 kHz folded onto the 12 pitch
  classes) is correlated with the Aarden-Essen major and minor key profiles (which beat
  Krumhansl-Kessler and Temperley on the same songs) in all 12 rotations; the best is the key.
  Modes are reported as their family: dorian is heard as minor, mixolydian as major (their scales
  differ from the profiles' by one degree).

Numpy and scipy only (librosa would bring numba and llvmlite for two functions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import stft

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_MAJOR = np.array([17.7661, 0.145624, 14.9265, 0.160186, 19.8049, 11.3587, 0.291248, 22.062, 0.145624, 8.15494,
                   0.232998, 4.95122])  # Aarden-Essen
_MINOR = np.array([18.2648, 0.737619, 14.0499, 16.8599, 0.702494, 14.4362, 0.702494, 18.6161, 4.56621, 1.93186,
                   7.37619, 1.75623])
_FAMILY = {"major": "major", "mixolydian": "major", "minor": "minor", "dorian": "minor"}
_HOP = 512


@dataclass(frozen=True)
class KeyEstimate:
    tonic: int  # pitch class
    mode: str  # "major" or "minor"
    strength: float  # correlation of the best profile, -1..1

    @property
    def name(self) -> str:
        return f"{PITCH_NAMES[self.tonic]} {self.mode}"


def _mono(audio: np.ndarray) -> np.ndarray:
    x = np.asarray(audio, dtype=np.float64)
    return x.mean(axis=1) if x.ndim == 2 else x


def _spectrogram(audio: np.ndarray, sample_rate: int, n_fft: int) -> tuple[np.ndarray, np.ndarray]:
    freqs, _, z = stft(_mono(audio), fs=sample_rate, nperseg=n_fft, noverlap=n_fft - _HOP, boundary=None, padded=False)
    return freqs, np.abs(z)


def onset_envelope(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, float]:
    """Onset strength per frame and the frame rate."""
    _, mag = _spectrogram(audio, sample_rate, 2048)
    logmag = np.log1p(1000.0 * mag)
    flux = np.maximum(0.0, np.diff(logmag, axis=1)).sum(axis=0)
    frame_rate = sample_rate / _HOP
    width = max(1, int(frame_rate))  # remove the slow loudness trend (one second)
    trend = np.convolve(flux, np.ones(width) / width, mode="same")
    return np.maximum(0.0, flux - trend), frame_rate


def estimate_tempo(audio: np.ndarray, sample_rate: int, lo: float = 50.0, hi: float = 220.0) -> float:
    """The tempo in bpm the audio's onsets repeat at (see the module doc)."""
    env, rate = onset_envelope(audio, sample_rate)
    env = env - env.mean()
    n = len(env)
    spectrum = np.fft.rfft(env, 2 * n)
    ac = np.fft.irfft(spectrum * np.conj(spectrum))[:n]
    ac = ac / (ac[0] + 1e-12)

    def at(lag: float) -> float:
        i = int(lag)
        if i + 1 >= n:
            return 0.0
        return float(ac[i] + (lag - i) * (ac[i + 1] - ac[i]))

    best, best_score = lo, -np.inf
    for bpm in np.arange(lo, hi, 0.25):
        lag = 60.0 * rate / bpm
        score = at(lag) * np.exp(-0.5 * (np.log2(bpm / 120.0) / 0.9) ** 2)
        if score > best_score:
            best, best_score = float(bpm), score
    lag = 60.0 * rate / best  # refine: parabola through the autocorrelation around the beat lag
    i = int(round(lag))
    if 1 <= i < n - 1:
        a, b, c = ac[i - 1], ac[i], ac[i + 1]
        denom = a - 2 * b + c
        if denom < 0:
            offset = 0.5 * (a - c) / denom
            if abs(offset) <= 1:
                best = 60.0 * rate / (i + offset)
    return best


def chroma(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Spectral magnitude per pitch class (C first), summed over the audio."""
    freqs, mag = _spectrogram(audio, sample_rate, 8192)
    band = (freqs >= 50.0) & (freqs <= 2000.0)
    pcs = np.round(12 * np.log2(freqs[band] / 440.0) + 69).astype(int) % 12
    energy = mag[band]
    out = np.zeros(12)
    for pc in range(12):
        out[pc] = energy[pcs == pc].sum()
    return out


def estimate_key(audio: np.ndarray, sample_rate: int) -> KeyEstimate:
    """The key whose Aarden-Essen profile best matches the audio's chroma."""
    c = chroma(audio, sample_rate)
    best = KeyEstimate(0, "major", -2.0)
    for tonic in range(12):
        for mode, profile in (("major", _MAJOR), ("minor", _MINOR)):
            r = float(np.corrcoef(c, np.roll(profile, tonic))[0, 1])
            if r > best.strength:
                best = KeyEstimate(tonic, mode, r)
    return best


def mode_family(mode: str) -> str:
    """The profile family a mode is heard as (dorian -> minor, mixolydian -> major)."""
    return _FAMILY[mode]


def tempo_error(estimated: float, requested: float) -> float:
    """Relative tempo error, |estimated - requested| / requested."""
    return abs(estimated - requested) / requested
