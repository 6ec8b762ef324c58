"""Several voices at once: a recording of two people singing (or a voice over a sung backing track)
cannot make one singer's profile, so the analysis refuses it.

The heuristic (harmonic salience with the first voice removed): in each voiced frame the tracked
pitch's harmonics are notched out of the magnitude spectrum (each +-3% and the window's main lobe; up to 2.5 kHz, where a voice's
harmonics stand well above its breath noise), and what is left is searched for another harmonic
series (the harmonic sum of each candidate pitch, 70-800 Hz). One voice leaves noise, whose best
harmonic sum is small against the first voice's; a second voice leaves a full series. A frame is
"two-voiced" when the second series holds at least SECOND_VOICE_RATIO of the first's salience; a
recording is refused when at least MAX_TWO_VOICED_SHARE of its voiced frames are.

Blind spots, by construction: two voices in unison or at an octave (the second series hides in the
first's harmonics), and a second voice far quieter than the first (under about -12 dB).
"""

from __future__ import annotations

import numpy as np

HARMONICS = 10
UP_TO_HZ = 2500.0
SECOND_VOICE_RATIO = 0.3
MAX_TWO_VOICED_SHARE = 0.3
WINDOW_S, FFT = 0.064, 8192
NOTCH_SHARE, NOTCH_LOBES = 0.03, 2.0  # a harmonic's notch: +-3% and +-2 bins of the window's resolution
CANDIDATES_HZ = np.geomspace(70.0, 800.0, 4 * 12 * 4)  # quarter-semitone steps over ~3.5 octaves


def _salience(magnitude: np.ndarray, bin_hz: float, f0s: np.ndarray) -> np.ndarray:
    """Harmonic sum (weights 0.9^(h-1)) of each candidate pitch, each harmonic's peak within +-1.5%."""
    total = np.zeros(len(f0s))
    for h in range(1, HARMONICS + 1):
        centre = h * f0s
        inside = centre < UP_TO_HZ
        lo = np.floor(centre * 0.985 / bin_hz).astype(int)
        hi = np.ceil(centre * 1.015 / bin_hz).astype(int) + 1
        peaks = np.array([magnitude[a:b].max() if ok and b > a else 0.0 for a, b, ok in zip(lo, hi, inside)])
        total += 0.9 ** (h - 1) * peaks
    return total


def second_voice_ratios(x: np.ndarray, rate: int, f0: np.ndarray, hop_s: float, most_frames: int = 200) -> np.ndarray:
    """Per analysed voiced frame, the best second harmonic series' salience over the first voice's."""
    width = int(rate * WINDOW_S)
    window = np.hanning(width)
    bin_hz = rate / FFT
    frames = np.flatnonzero(f0 > 0)
    if len(frames) > most_frames:
        frames = frames[np.linspace(0, len(frames) - 1, most_frames).astype(int)]
    ratios = []
    for i in frames:
        start = int(i * hop_s * rate) - width // 2
        if start < 0 or start + width > len(x):
            continue
        magnitude = np.abs(np.fft.rfft(x[start:start + width] * window, FFT))
        first = _salience(magnitude, bin_hz, np.array([f0[i]]))[0]
        if first <= 0:
            continue
        residual = magnitude.copy()
        for h in range(1, int(UP_TO_HZ / f0[i]) + 2):
            half = NOTCH_SHARE * h * f0[i] + NOTCH_LOBES / WINDOW_S  # the window's main lobe, smeared by vibrato
            a, b = int((h * f0[i] - half) / bin_hz), int(np.ceil((h * f0[i] + half) / bin_hz)) + 1
            residual[max(a, 0):b] = 0.0
        others = np.abs(np.log2(CANDIDATES_HZ / f0[i])) > 0.09  # not the first voice itself, mistracked
        ratios.append(float(_salience(residual, bin_hz, CANDIDATES_HZ[others]).max() / first))
    return np.array(ratios)


def two_voiced_share(x: np.ndarray, rate: int, f0: np.ndarray, hop_s: float) -> float:
    """Share of the analysed voiced frames that carry a second harmonic series (see the module doc)."""
    ratios = second_voice_ratios(x, rate, f0, hop_s)
    return float((ratios >= SECOND_VOICE_RATIO).mean()) if len(ratios) else 0.0
