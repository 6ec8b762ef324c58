"""Measure a voice from a trimmed recording: pitch, spectral envelope, formants, tilt, brightness,
vibrato and breathiness, into a :class:`~composition.models.VoiceProfile`.

Pitch is WORLD's DIO refined by StoneMask (WORLD's Harvest is the more robust tracker but measured
1.1 s per second of audio on this machine: a 120 s recording would outlast the stage's deadline);
a frame counts as voiced only where the tracker found a pitch *and* the signal repeats at that
period (normalised autocorrelation), so noise and whispers are not taken for a voice. The envelope
is WORLD's CheapTrick averaged over voiced frames, aperiodicity its D4C (breathiness), formants come
from LPC roots. Two voices at once are found by :mod:`music.voiceprint.polyphony`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_toeplitz
from scipy.signal import lfilter

from composition.models import VoiceProfile
from music.errors import StageError
from music.voiceprint.recording import Recording

HOP_S = 0.010
F0_FLOOR, F0_CEIL = 65.0, 1000.0
MIN_PERIODICITY = 0.5  # normalised autocorrelation at the pitch period of a voiced frame
MIN_VOICED_S = 1.0
MIN_VOICED_SHARE = 0.1
ENVELOPE_GRID_HZ = tuple(float(f) for f in np.geomspace(100.0, 7000.0, 36).round(1))
MIN_SUNG_SPAN = 16  # semitones: the comfortable range is at least this wide
LOWEST_NOTE, HIGHEST_NOTE = 36, 84


@dataclass(frozen=True)
class Measured:
    """The profile and what the analysis saw."""

    profile: VoiceProfile
    voiced_share: float
    f0: np.ndarray  # per HOP_S frame, 0 where unvoiced
    spectrum: np.ndarray  # CheapTrick envelope of the voiced frames (frames, bins), power
    rate: int


def hz_to_midi(hz: np.ndarray | float) -> np.ndarray | float:
    return 69.0 + 12.0 * np.log2(np.asarray(hz) / 440.0)


def track_pitch(x: np.ndarray, rate: int) -> np.ndarray:
    """f0 per 10 ms frame (0: unvoiced), DIO + StoneMask, kept where the signal is periodic there."""
    import pyworld

    f0, times = pyworld.dio(x, rate, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=HOP_S * 1000)
    f0 = pyworld.stonemask(x, f0, times, rate)
    return np.where(f0 > 0, f0, 0.0) * (periodicity(x, rate, f0) >= MIN_PERIODICITY)


def periodicity(x: np.ndarray, rate: int, f0: np.ndarray) -> np.ndarray:
    """Normalised autocorrelation of each frame at its pitch period (1: perfectly periodic)."""
    hop, width = int(rate * HOP_S), int(rate * 0.04)
    padded = np.pad(x, (width, width + int(rate / F0_FLOOR) + 1))
    result = np.zeros(len(f0))
    for i in np.flatnonzero(f0 > 0):
        lag = int(round(rate / f0[i]))
        start = i * hop + width - width // 2
        a, b = padded[start:start + width], padded[start + lag:start + lag + width]
        denominator = np.sqrt(np.dot(a, a) * np.dot(b, b))
        result[i] = np.dot(a, b) / denominator if denominator > 0 else 0.0
    return result


def formants(x: np.ndarray, rate: int, voiced: np.ndarray, count: int = 3, most_frames: int = 400) -> list[float]:
    """Median F1..F``count`` over voiced frames: roots of a pre-emphasised LPC fit (order 2 + kHz),
    kept between 200 Hz and 5 kHz with bandwidths under 400 Hz."""
    hop, width = int(rate * HOP_S), int(rate * 0.03)
    order = 2 + rate // 1000
    frames = np.flatnonzero(voiced)
    if len(frames) > most_frames:
        frames = frames[np.linspace(0, len(frames) - 1, most_frames).astype(int)]
    emphasised = lfilter([1.0, -0.97], [1.0], x)
    window = np.hamming(width)
    found: list[list[float]] = []
    for i in frames:
        segment = emphasised[i * hop:i * hop + width]
        if len(segment) < width:
            continue
        segment = segment * window
        r = np.correlate(segment, segment, "full")[width - 1:width + order]
        if r[0] <= 0:
            continue
        try:
            a = solve_toeplitz(r[:order], -r[1:order + 1])
        except (np.linalg.LinAlgError, ValueError):
            continue
        roots = np.roots(np.concatenate([[1.0], a]))
        roots = roots[np.imag(roots) > 0]
        freqs = np.angle(roots) * rate / (2 * np.pi)
        bandwidths = -np.log(np.abs(roots)) * rate / np.pi
        keep = np.sort(freqs[(freqs > 200) & (freqs < 5000) & (bandwidths < 400)])
        if len(keep) >= count:
            found.append(list(keep[:count]))
    if not found:
        return []
    return [round(float(f), 1) for f in np.median(np.array(found), axis=0)]


def vibrato(f0: np.ndarray) -> tuple[float, float]:
    """(rate Hz, depth cents) of the vibrato in sustained voiced runs (0.6 s and more): the strongest
    3.5-8 Hz component of each run's pitch (in cents, its slow contour removed), where it holds at
    least half of the run's pitch movement; medians over such runs, (0, 0) if under a quarter of the
    runs have one."""
    runs, start = [], None
    for i, voiced in enumerate(np.append(f0 > 0, False)):
        if voiced and start is None:
            start = i
        elif not voiced and start is not None:
            if i - start >= int(0.6 / HOP_S):
                runs.append(f0[start:i])
            start = None
    rates, depths = [], []
    for run in runs:
        cents = 1200 * np.log2(run / np.median(run))
        kernel = int(0.3 / HOP_S) | 1
        slow = np.convolve(np.pad(cents, kernel // 2, mode="edge"), np.ones(kernel) / kernel, "valid")
        wobble = (cents - slow) * np.hanning(len(cents))
        spectrum = np.abs(np.fft.rfft(wobble, 1024)) ** 2
        freqs = np.fft.rfftfreq(1024, HOP_S)
        band = (freqs >= 3.5) & (freqs <= 8.0)
        moving = (freqs >= 1.0) & (freqs <= 15.0)
        if spectrum[moving].sum() <= 0:
            continue
        if spectrum[band].sum() / spectrum[moving].sum() >= 0.5:
            rates.append(float(freqs[band][np.argmax(spectrum[band])]))
            depths.append(float(np.sqrt(2) * np.std(cents - slow)))
    if not runs or len(rates) < max(1, len(runs) / 4):
        return 0.0, 0.0
    return round(float(np.median(rates)), 2), round(float(np.median(depths)), 1)


def sung_range(f0_low: float, f0_high: float) -> tuple[int, int]:
    """The comfortable sung range: the measured 5th-95th percentile widened to MIN_SUNG_SPAN semitones,
    a third of the widening below and two thirds above (a speaking voice sits low in its singing
    range), within C2..C6."""
    low, high = float(hz_to_midi(f0_low)), float(hz_to_midi(f0_high))
    missing = max(0.0, MIN_SUNG_SPAN - (high - low))
    low, high = int(np.floor(low - missing / 3)), int(np.ceil(high + 2 * missing / 3))
    if low < LOWEST_NOTE:
        low, high = LOWEST_NOTE, high + LOWEST_NOTE - low
    if high > HIGHEST_NOTE:
        low, high = low - (high - HIGHEST_NOTE), HIGHEST_NOTE
    return low, high


def measure(recording: Recording) -> Measured:
    """The voice profile of a trimmed recording; ``no_voiced_frames`` when too little of it has a pitch."""
    import pyworld

    x, rate = recording.samples, recording.rate
    f0 = track_pitch(x, rate)
    voiced = f0 > 0
    share = float(voiced.mean()) if len(voiced) else 0.0
    if voiced.sum() * HOP_S < MIN_VOICED_S or share < MIN_VOICED_SHARE:
        raise StageError("no_voiced_frames", f"only {voiced.sum() * HOP_S:.1f} s of the recording has a pitch "
                         f"({100 * share:.0f}%): sing or speak aloud (not whispered), without background noise")
    times = np.arange(len(f0)) * HOP_S
    sp = pyworld.cheaptrick(x, f0, times, rate, f0_floor=F0_FLOOR)
    coarse = np.flatnonzero(voiced)[::4]
    ap = pyworld.d4c(x, np.ascontiguousarray(f0[coarse]), np.ascontiguousarray(times[coarse]), rate)
    spectrum = sp[voiced]
    bins = sp.shape[1]
    freqs = np.arange(bins) * rate / (2 * (bins - 1))
    ltas = 10 * np.log10(np.maximum(spectrum.mean(axis=0), 1e-20))
    grid = np.array(ENVELOPE_GRID_HZ)
    envelope = np.interp(grid, freqs, ltas)
    envelope -= envelope.mean()
    band = (grid >= 200) & (grid <= 5000)
    tilt = float(np.polyfit(np.log2(grid[band]), envelope[band], 1)[0])
    power = 10 ** (np.interp(grid, freqs, ltas) / 10)
    centroid = float(np.sum(grid * power) / np.sum(power))
    brightness = float(np.clip(np.log2(centroid / 300.0) / np.log2(4000.0 / 300.0), 0.0, 1.0))
    breath_band = (freqs >= 1000) & (freqs <= 5000)
    breathiness = float(np.clip(np.mean(ap[:, breath_band]), 0.0, 1.0))
    pitches = f0[voiced]
    low, median, high = (float(v) for v in np.percentile(pitches, [5, 50, 95]))
    range_low, range_high = sung_range(low, high)
    rate_hz, depth = vibrato(f0)
    profile = VoiceProfile(
        f0_median_hz=round(median, 2), f0_low_hz=round(low, 2), f0_high_hz=round(high, 2),
        range_low=range_low, range_high=range_high, formants_hz=formants(x, rate, voiced),
        envelope_hz=list(ENVELOPE_GRID_HZ), envelope_db=[round(float(v), 2) for v in envelope],
        tilt_db_per_octave=round(tilt, 2), brightness=round(brightness, 3), vibrato_rate_hz=rate_hz,
        vibrato_depth_cents=depth, breathiness=round(breathiness, 3),
    )
    return Measured(profile=profile, voiced_share=share, f0=f0, spectrum=spectrum, rate=rate)
