"""Mix a set: every song stretched to the set's tempo, placed on its downbeat, cross-faded with a
bass swap.

Each song is time-stretched with pedalboard's ``time_stretch`` (the Rubber Band library inside
pedalboard) by its ratio to the set tempo - its faster engine (``high_quality=False``, Rubber Band's
R2): the finer R3 engine drifted, a 118 bpm song's beats 45 ms early 25 s into a 5 % stretch with the
length still right, where R2 keeps them within the grid's own few ms (and takes a third of the time) -, then split at 200 Hz into lows and highs with a zero-phase
filter (the two sum back to the song exactly). Through an overlap the highs cross-fade with equal
power over the whole overlap; the lows do not mix: the outgoing song keeps its bass until the downbeat
of the EQ swap and the incoming one takes it there, within one ramp of 30 ms, so two bass lines never
play at once. An announcement, when there is one, is spoken over the incoming song's first bars with
the music ducked under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pedalboard as pb
from scipy.signal import butter, sosfiltfilt

from music.dj.plan import Placement

SPLIT_HZ = 200.0
SWAP_RAMP_S = 0.03
DUCK_DB = -6.0


@dataclass(frozen=True)
class Overlap:
    """One transition in set time: from ``start_s`` for ``length_s``, the bass changing hands at ``swap_s``."""

    start_s: float
    length_s: float
    swap_s: float

    @property
    def end_s(self) -> float:
        return self.start_s + self.length_s


@dataclass(frozen=True)
class Voice:
    """A spoken line placed at ``start_s`` (set time), mono at the set's rate."""

    start_s: float
    audio: np.ndarray


def stretch(audio: np.ndarray, sample_rate: int, ratio: float) -> np.ndarray:
    """``audio`` (frames, channels) played ``ratio`` times as fast, its pitch kept."""
    if abs(ratio - 1.0) < 1e-4:
        return audio
    out = pb.time_stretch(np.ascontiguousarray(audio.T, dtype=np.float32), float(sample_rate), stretch_factor=ratio,
                          high_quality=False)
    return np.ascontiguousarray(out.T)


def split(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Lows and highs that sum to ``audio`` (zero-phase, so the sum is exact)."""
    sos = butter(4, SPLIT_HZ, btype="lowpass", fs=sample_rate, output="sos")
    lows = sosfiltfilt(sos, audio, axis=0).astype(np.float32)
    return lows, (audio - lows).astype(np.float32)


def _ramp(times: np.ndarray, start: float, length: float) -> np.ndarray:
    return np.clip((times - start) / max(length, 1e-9), 0.0, 1.0)


def gains(times: np.ndarray, incoming: Overlap | None, outgoing: Overlap | None) -> tuple[np.ndarray, np.ndarray]:
    """Gain of a song's lows and highs at set ``times``: in through ``incoming``, out through ``outgoing``."""
    low = np.ones_like(times)
    high = np.ones_like(times)
    if incoming is not None:
        x = _ramp(times, incoming.start_s, incoming.length_s)
        high *= np.sin(0.5 * np.pi * x)
        low *= _ramp(times, incoming.swap_s, SWAP_RAMP_S)
    if outgoing is not None:
        x = _ramp(times, outgoing.start_s, outgoing.length_s)
        high *= np.cos(0.5 * np.pi * x)
        low *= 1.0 - _ramp(times, outgoing.swap_s, SWAP_RAMP_S)
    return low, high


def mix_set(songs: Sequence[np.ndarray], sample_rate: int, places: Sequence[Placement], overlaps: Sequence[Overlap],
            voices: Sequence[Voice] = ()) -> np.ndarray:
    """The set (frames, 2) before mastering: ``songs`` (playing order, stereo) placed by ``places``,
    song i going out and song i+1 coming in through ``overlaps[i]``."""
    end_s = max(p.offset_s + p.play_to_s / p.ratio for p in places)
    out = np.zeros((int(np.ceil(end_s * sample_rate)) + 1, 2), dtype=np.float32)
    for index, (audio, place) in enumerate(zip(songs, places)):
        stretched = stretch(audio, sample_rate, place.ratio)
        first = int(round(place.play_from_s / place.ratio * sample_rate))
        last = min(len(stretched), int(round(place.play_to_s / place.ratio * sample_rate)))
        at = int(round(place.offset_s * sample_rate)) + first
        if at < 0:  # a song whose first downbeat comes after the set's start point: its lead-in is cut
            first, at = first - at, 0
        if last <= first:
            continue
        piece = stretched[first:last]
        lows, highs = split(piece, sample_rate)
        times = (at + np.arange(len(piece))) / sample_rate
        low, high = gains(times, overlaps[index - 1] if index > 0 else None,
                          overlaps[index] if index < len(overlaps) else None)
        size = min(len(piece), len(out) - at)
        out[at:at + size] += (lows * low[:, None] + highs * high[:, None])[:size]
    for voice in voices:
        duck_and_speak(out, sample_rate, voice)
    return out


def duck_and_speak(out: np.ndarray, sample_rate: int, voice: Voice, fade_s: float = 0.25) -> None:
    """Lower the music by ``DUCK_DB`` while ``voice`` speaks (with short fades) and add the voice."""
    start = int(round(voice.start_s * sample_rate))
    if start >= len(out):
        return
    size = min(len(voice.audio), len(out) - start)
    times = np.arange(len(out)) / sample_rate
    begin, end = voice.start_s, voice.start_s + size / sample_rate
    inside = np.minimum(_ramp(times, begin - fade_s, fade_s), 1.0 - _ramp(times, end, fade_s))
    out *= (1.0 - inside * (1.0 - 10 ** (DUCK_DB / 20)))[:, None].astype(np.float32)
    out[start:start + size] += voice.audio[:size, None]
