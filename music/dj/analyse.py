"""Analyse one song for the set: its tempo, beat grid, downbeats, key and energy.

The composition's context says what was written (tempo, meter, key, the form with each section's
energy); the mastered audio says where the beats fall. librosa's beat tracker runs on the audio: its
tempo must agree with the written one (within 4 %, counting half and double time), and the phase of
the grid (where the first beat lies) is the circular median of the tracked beats against the written
period, so the grid is the written tempo's, placed where the audio puts it. A song whose audio does not
show its written tempo is analysed at the tempo heard (and said so in ``tempo_source``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from composition.sets import SetTrack, TrackAnalysis
from music.dj.camelot import camelot
from music.errors import StageError

ANALYSIS_RATE = 22050
HOP = 128  # 5.8 ms frames at 22.05 kHz: the grid's phase is placed to a few ms
COARSE_HOP = 512  # for hearing the tempo
TEMPO_TOLERANCE = 0.04


def mono(audio: np.ndarray, sample_rate: int, rate: int = ANALYSIS_RATE) -> np.ndarray:
    """Mono float32 at ``rate`` (what the beat tracker reads)."""
    import librosa

    signal = np.asarray(audio, dtype=np.float32)
    signal = signal.mean(axis=1) if signal.ndim == 2 else signal
    return librosa.resample(signal, orig_sr=sample_rate, target_sr=rate) if sample_rate != rate else signal


def heard_tempo(signal: np.ndarray, start_bpm: float = 120.0) -> float:
    """The tempo librosa hears in mono ``signal`` (at ``ANALYSIS_RATE``), from a coarse onset envelope
    (23 ms frames: the tempogram on the fine one costs 16 times as much and says the same)."""
    import librosa

    envelope = librosa.onset.onset_strength(y=signal, sr=ANALYSIS_RATE, hop_length=COARSE_HOP)
    return float(librosa.feature.tempo(onset_envelope=envelope, sr=ANALYSIS_RATE, hop_length=COARSE_HOP,
                                       start_bpm=start_bpm)[0])


def track_beats(audio: np.ndarray, sample_rate: int, bpm: float | None = None,
                start_bpm: float = 120.0) -> tuple[float, np.ndarray]:
    """librosa's beat tracker: the tempo it tracked at (``bpm`` when given, else the tempo it hears) and
    its beat times (s)."""
    import librosa

    signal = mono(audio, sample_rate)
    if signal.size < ANALYSIS_RATE or float(np.abs(signal).max(initial=0.0)) < 1e-4:
        return 0.0, np.zeros(0)
    tempo = bpm if bpm is not None else heard_tempo(signal, start_bpm)
    envelope = librosa.onset.onset_strength(y=signal, sr=ANALYSIS_RATE, hop_length=HOP)
    _, frames = librosa.beat.beat_track(onset_envelope=envelope, sr=ANALYSIS_RATE, hop_length=HOP, bpm=tempo,
                                        tightness=400, trim=False)
    return float(tempo), refine(envelope, frames) * HOP / ANALYSIS_RATE


def refine(envelope: np.ndarray, frames: np.ndarray, reach: int = 2) -> np.ndarray:
    """Beat frames moved to the onset envelope's peak within ``reach`` frames and placed between frames
    by a parabola through the peak and its neighbours (the tracker's frames are 5.8 ms apart)."""
    out = np.asarray(frames, dtype=np.float64).copy()
    last = len(envelope) - 1
    for i, frame in enumerate(np.asarray(frames, dtype=int)):
        lo, hi = max(0, frame - reach), min(last, frame + reach)
        peak = lo + int(np.argmax(envelope[lo:hi + 1]))
        if 0 < peak < last:
            a, b, c = envelope[peak - 1], envelope[peak], envelope[peak + 1]
            bend = a - 2 * b + c
            out[i] = peak + (0.5 * (a - c) / bend if bend < 0 else 0.0)
        else:
            out[i] = peak
    return out


def folded_ratio(heard: float, written: float) -> float:
    """``heard / written`` with half and double time folded back towards 1."""
    ratio = heard / written
    for fold in (2.0, 0.5):
        if abs(ratio / fold - 1) < abs(ratio - 1):
            ratio /= fold
    return ratio


def grid_phase(beats_s: np.ndarray, period_s: float) -> float:
    """Where, within one period, the beats fall: the circular median of their phases (s, 0..period)."""
    if beats_s.size == 0:
        return 0.0
    angles = 2 * np.pi * (beats_s % period_s) / period_s
    mean = np.angle(np.exp(1j * angles).mean())  # centre the phases, then take their median around it
    offsets = np.angle(np.exp(1j * (angles - mean)))
    return float(((mean + np.median(offsets)) % (2 * np.pi)) / (2 * np.pi) * period_s)


@dataclass(frozen=True)
class Grid:
    tempo_bpm: float
    first_beat_s: float  # the song's first beat, the downbeat of bar 1 (a few ms below 0 where the audio puts it)
    beats_per_bar: int
    duration_s: float
    source: str  # "context" (the written tempo, confirmed) or "audio" (the written one was not heard)

    @property
    def period_s(self) -> float:
        return 60.0 / self.tempo_bpm

    def beats(self) -> np.ndarray:
        return np.arange(self.first_beat_s, self.duration_s, self.period_s)

    def downbeats(self) -> np.ndarray:
        return self.beats()[:: self.beats_per_bar]


def beat_grid(track: SetTrack, audio: np.ndarray, sample_rate: int) -> Grid:
    duration = len(audio) / sample_rate
    heard = heard_tempo(mono(audio, sample_rate), start_bpm=track.tempo_bpm)
    agrees = heard > 0 and abs(folded_ratio(heard, track.tempo_bpm) - 1) <= TEMPO_TOLERANCE
    tempo = track.tempo_bpm if agrees else heard
    _, beats = track_beats(audio, sample_rate, bpm=tempo)
    if beats.size < 4:
        raise StageError("no_beats", f"{track.title!r}: the beat tracker found no beat in its audio", retryable=False)
    period = 60.0 / tempo
    phase = grid_phase(beats, period)
    first = phase - period if phase > period / 2 else phase  # bar 1 starts the song: the beat nearest 0
    return Grid(tempo, first, track.beats_per_bar, duration, "context" if agrees else "audio")


def section_energy(track: SetTrack, audio: np.ndarray, sample_rate: int) -> list[float]:
    """Energy per section from the form; a song without one gets the RMS of its quarters (0..1)."""
    if track.form:
        return [s.energy for s in track.form]
    quarters = np.array_split(np.asarray(audio, dtype=np.float64).reshape(len(audio), -1), 4)
    rms = np.array([np.sqrt(np.mean(q ** 2)) if q.size else 0.0 for q in quarters])
    return [float(x) for x in (rms / rms.max() if rms.max() > 0 else rms)]


def analyse(track: SetTrack, audio: np.ndarray, sample_rate: int) -> TrackAnalysis:
    """Tempo, grid, downbeats, key (Camelot) and energy of one song of the set."""
    grid = beat_grid(track, audio, sample_rate)
    return TrackAnalysis(composition_id=track.composition_id, tempo_bpm=grid.tempo_bpm, key=track.key,
                         mode=track.mode, camelot=str(camelot(track.key, track.mode)),
                         beats_s=[round(float(b), 5) for b in grid.beats()],
                         downbeats_s=[round(float(b), 5) for b in grid.downbeats()],
                         energy=section_energy(track, audio, sample_rate), duration_s=grid.duration_s)
