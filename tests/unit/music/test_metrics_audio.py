"""Audio metrics: our fast loudness and true-peak meters agree with the references."""

from __future__ import annotations

import numpy as np
import pyloudnorm
from scipy.signal import resample_poly

from music.metrics_audio import (
    duration_error,
    integrated_lufs,
    rank_correlation,
    segment_loudness,
    true_peak_dbtp,
    vocal_pitch_error_cents,
)

RATE = 44100


def _music_like(seconds: float = 6.0, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    tones = sum(np.sin(2 * np.pi * f * t + p) / (i + 1) for i, (f, p) in enumerate(zip([110, 220, 330, 2500, 9000], rng.random(5))))
    noise = np.convolve(rng.standard_normal(len(t)), np.ones(4) / 4, mode="same") * 0.1
    left = 0.3 * tones * (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t)) + noise
    return np.stack([left, np.roll(left, 200)], axis=1)


def test_loudness_matches_pyloudnorm():
    audio = _music_like()
    audio[: RATE] *= 0.01  # a quiet start exercises the gates
    assert abs(integrated_lufs(audio, RATE) - pyloudnorm.Meter(RATE).integrated_loudness(audio)) < 0.02


def test_true_peak_matches_oversampling():
    audio = _music_like()
    reference = 20 * np.log10(np.abs(resample_poly(audio, 4, 1, axis=0)).max())
    measured = true_peak_dbtp(audio, RATE)
    assert abs(measured - reference) < 0.15
    assert measured >= 20 * np.log10(np.abs(audio).max()) - 1e-9


def test_true_peak_sees_an_inter_sample_peak():
    t = np.arange(RATE) / RATE
    sine = np.sin(2 * np.pi * RATE / 4 * t + np.pi / 4)  # samples at +-0.707, peaks at 1.0 between them
    assert 20 * np.log10(np.abs(sine).max()) < -2.9
    assert abs(true_peak_dbtp(sine, RATE)) < 0.2


def test_rank_correlation():
    assert rank_correlation([0.2, 0.5, 0.9], [-20.0, -15.0, -10.0]) == 1.0
    assert rank_correlation([0.2, 0.5, 0.9], [-10.0, -15.0, -20.0]) == -1.0
    assert rank_correlation([0.5, 0.5], [-10.0, -10.2]) == 0.0  # a flat plan played unevenly
    assert rank_correlation([0.5, 0.5], [-10.0, -10.2], 0.05, 0.5) == 1.0
    # intro 0.37 and outro 0.39 measured 0.1 LU apart the other way: a tie, not an inversion
    assert rank_correlation([0.37, 0.87, 0.39], [-18.86, -12.49, -18.96]) == 0.5
    assert rank_correlation([0.37, 0.87, 0.39], [-18.86, -12.49, -18.96], 0.05, 0.5) == 1.0
    assert rank_correlation([0.2, 0.9, 0.6], [-10.0, -20.0, -15.0], 0.05, 0.5) == -1.0


def test_segment_loudness_follows_level():
    audio = _music_like(4.0)
    audio[2 * RATE:] *= 0.5
    first, second = segment_loudness(audio, RATE, [(0.0, 2.0), (2.0, 4.0)])
    assert abs((first - second) - 6.02) < 0.5


def test_vocal_pitch_error_measures_detuning():
    t = np.arange(2 * RATE) / RATE
    sharp = 440 * 2 ** (40 / 1200)  # A4, 40 cents sharp
    tone = 0.5 * np.sign(np.sin(2 * np.pi * sharp * t)) * 0.3 + 0.5 * np.sin(2 * np.pi * sharp * t)
    error = vocal_pitch_error_cents(tone, RATE, [(69, 0.0, 1.0), (69, 1.0, 2.0)])
    assert 35 <= error <= 45
    assert vocal_pitch_error_cents(np.zeros(2 * RATE), RATE, [(69, 0.0, 1.0)]) == 100.0


def test_duration_error():
    assert duration_error(63.0, 60.0) == 0.05
