"""Objective audio measurements of a finished song: loudness, true peak, energy vs loudness per
section, vocal pitch error against the notes, duration against the request.

Every number is measured on the audio (ITU-R BS.1770 loudness through pyloudnorm, true peak on a 4x
oversampled signal, f0 through the WORLD vocoder's DIO + StoneMask pitch tracker); none is copied
from a setting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import resample_poly
from scipy.stats import spearmanr

PITCH_RATE = 16000
PITCH_FRAME_MS = 5.0


def _as_2d(audio: np.ndarray) -> np.ndarray:
    audio = np.asarray(audio, dtype=np.float64)
    return audio[:, None] if audio.ndim == 1 else audio


def integrated_lufs(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness (LUFS, BS.1770-4 with gating)."""
    import pyloudnorm

    return float(pyloudnorm.Meter(sample_rate).integrated_loudness(_as_2d(audio)))


def true_peak_dbtp(audio: np.ndarray, sample_rate: int, oversample: int = 4) -> float:
    """True peak (dBTP): the highest absolute sample after ``oversample``-times polyphase upsampling."""
    upsampled = resample_poly(_as_2d(audio), oversample, 1, axis=0)
    peak = float(np.max(np.abs(upsampled))) if upsampled.size else 0.0
    return 20.0 * np.log10(max(peak, 1e-12))


def segment_loudness(audio: np.ndarray, sample_rate: int, bounds_s: list[tuple[float, float]]) -> list[float]:
    """Loudness (LUFS) of each (start, end) span; spans too short to gate use their K-weighted mean."""
    import pyloudnorm

    meter = pyloudnorm.Meter(sample_rate)
    audio = _as_2d(audio)
    values = []
    for start, end in bounds_s:
        chunk = audio[int(start * sample_rate):int(end * sample_rate)]
        if len(chunk) < int(0.5 * sample_rate):
            values.append(-70.0)
            continue
        with np.errstate(divide="ignore"):
            value = meter.integrated_loudness(chunk)
        values.append(float(value) if np.isfinite(value) else -70.0)
    return values


def rank_correlation(a: list[float], b: list[float]) -> float:
    """Spearman's rho; 1.0 when the plan is flat and so is the measurement, 0.0 when undefined."""
    if len(a) < 2:
        return 1.0
    if np.ptp(a) == 0:
        return 1.0 if np.ptp(b) < 1.0 else 0.0
    rho = spearmanr(a, b).statistic
    return float(rho) if np.isfinite(rho) else 0.0


def energy_loudness_correlation(energies: list[float], bounds_s: list[tuple[float, float]], audio: np.ndarray,
                                sample_rate: int) -> tuple[float, list[float]]:
    """Rank correlation of planned energy per section with measured loudness per section."""
    loudness = segment_loudness(audio, sample_rate, bounds_s)
    return rank_correlation(energies, loudness), loudness


def pitch_track(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(times s, f0 Hz with 0 for unvoiced) of a mono signal, WORLD DIO refined by StoneMask."""
    import pyworld

    mono = _as_2d(audio).mean(axis=1)
    x = resample_poly(mono, PITCH_RATE, sample_rate) if sample_rate != PITCH_RATE else mono
    x = np.ascontiguousarray(x, dtype=np.float64)
    f0, times = pyworld.dio(x, PITCH_RATE, f0_floor=70.0, f0_ceil=1000.0, frame_period=PITCH_FRAME_MS)
    f0 = pyworld.stonemask(x, f0, times, PITCH_RATE)
    return times, f0


@dataclass(frozen=True)
class NotePitch:
    pitch: int
    start_s: float
    end_s: float
    measured_cents: float | None  # median measured pitch minus the note, None if unvoiced


def note_pitch_errors(times: np.ndarray, f0: np.ndarray, notes: list[tuple[int, float, float]]) -> list[NotePitch]:
    """Per note: the median f0 over the note's middle 20-80% (voiced frames) against the note, in cents."""
    result = []
    for pitch, start, end in notes:
        length = end - start
        mask = (times >= start + 0.2 * length) & (times <= start + 0.8 * length) & (f0 > 0)
        if mask.sum() < 2:
            result.append(NotePitch(pitch, start, end, None))
            continue
        target = 440.0 * 2 ** ((pitch - 69) / 12.0)
        cents = 1200.0 * np.log2(f0[mask] / target)
        result.append(NotePitch(pitch, start, end, float(np.median(cents))))
    return result


def vocal_pitch_error_cents(audio: np.ndarray, sample_rate: int, notes: list[tuple[int, float, float]]) -> float:
    """Median over notes of |median measured pitch - note pitch| in cents; a note with no voiced frame
    counts as a 100-cent miss, so a silent or unpitched vocal cannot pass."""
    times, f0 = pitch_track(audio, sample_rate)
    errors = [abs(n.measured_cents) if n.measured_cents is not None else 100.0
              for n in note_pitch_errors(times, f0, notes)]
    return float(np.median(errors)) if errors else float("nan")


def duration_error(measured_s: float, requested_s: float) -> float:
    """|measured - requested| / requested."""
    return abs(measured_s - requested_s) / requested_s


def section_bounds_s(plan) -> list[tuple[float, float]]:
    """(start, end) in seconds of each planned form section."""
    bounds, beat = [], 0.0
    for section in plan.form:
        beats = section.bars * plan.beats_per_bar
        bounds.append((beat * 60.0 / plan.tempo_bpm, (beat + beats) * 60.0 / plan.tempo_bpm))
        beat += beats
    return bounds


def measure_quality(ctx, master: np.ndarray, vocal: np.ndarray | None, sample_rate: int, lufs: float,
                    peak_dbtp: float):
    """Every quality metric of a finished song: the audio ones measured here, the symbolic ones
    (in key, syllable alignment, stress, rhyme) from ``music.metrics_symbolic``."""
    from composition.models import QualityMetrics
    from music.vocals import sung_notes

    energies = [s.energy for s in ctx.plan.form]
    correlation, _ = energy_loudness_correlation(energies, section_bounds_s(ctx.plan), master, sample_rate)
    pitch_error = None
    if vocal is not None and ctx.melody is not None and ctx.lyrics is not None:
        notes = [(n.pitch, n.start_s, n.end_s) for n in sung_notes(ctx)]
        pitch_error = vocal_pitch_error_cents(vocal, sample_rate, notes)
    duration = len(master) / sample_rate
    return QualityMetrics(
        **symbolic_metrics(ctx),
        energy_loudness_correlation=correlation,
        vocal_pitch_error_cents=pitch_error,
        integrated_lufs=lufs,
        true_peak_dbtp=peak_dbtp,
        duration_s=duration,
        duration_error=duration_error(duration, ctx.request.duration_s),
    )


def symbolic_metrics(ctx) -> dict[str, float | None]:
    """melody_in_key, syllable_alignment, stress_on_strong_beats, rhyme_adherence from the symbolic
    metrics module; until it exists, in-key and alignment are counted here and the rest are None."""
    try:
        from music import metrics_symbolic
    except ImportError:
        metrics_symbolic = None
    if metrics_symbolic is not None and hasattr(metrics_symbolic, "symbolic_metrics"):
        return dict(metrics_symbolic.symbolic_metrics(ctx))
    return _fallback_symbolic(ctx)


_MODES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10), "dorian": (0, 2, 3, 5, 7, 9, 10),
          "mixolydian": (0, 2, 4, 5, 7, 9, 10)}
_PCS = {"C": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "F": 5, "F#": 6, "Gb": 6, "G": 7, "G#": 8,
        "Ab": 8, "A": 9, "A#": 10, "Bb": 10, "B": 11}


def _fallback_symbolic(ctx) -> dict[str, float | None]:
    notes = ctx.melody.notes if ctx.melody else []
    scale = {(_PCS.get(ctx.plan.key, 0) + step) % 12 for step in _MODES.get(ctx.plan.mode, _MODES["major"])}
    in_key = sum(n.pitch % 12 in scale for n in notes) / len(notes) if notes else 1.0
    alignment = None
    if ctx.lyrics is not None and ctx.melody is not None and ctx.melody.sung:
        syllables = sum(len(line.syllables) for s in ctx.lyrics.sections for line in s.lines)
        sung = {(n.section, n.line, n.syllable) for n in notes if n.syllable >= 0}
        alignment = len(sung) / syllables if syllables else 1.0
    return {"melody_in_key": in_key, "syllable_alignment": alignment, "stress_on_strong_beats": None,
            "rhyme_adherence": None}
