"""The WORLD singing engine shared by the speech-based singers (flite, espeak).

A singer hands it, per sung note, a :class:`Syllable` source: the WORLD frames (spectral envelope,
aperiodicity, voicing) of that syllable as a text-to-speech voice spoke it, with its onset
consonants, vowel and coda marked. The engine lays the frames on the note: the vowel starts on the
note (where a listener hears the beat), the onset consonants just before it at their spoken length
(shortened only where the notes are too close), the coda at the end; the vowel's steady part is
stretched over the rest (its onset, the transition out of the consonant, keeps its spoken speed).
f0 is replaced by the note's pitch with the style's vibrato and, legato, a glide from the previous
note that arrives with the vowel (the onset consonants start at the previous pitch); breathiness
raises the aperiodicity above the voice's ``breath_from_hz``. Each phrase is resynthesised in one
WORLD call, phrases in a thread pool (WORLD releases the GIL).

WORLD's synthesis is deterministic (its noise generator is reseeded on every call), so the same
sources and notes give the same samples.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from math import gcd

import numpy as np
from scipy.signal import resample_poly

from music.vocals.style import SungNote, VocalStyle, VoiceProfile

FRAME_MS = 5.0
HOP_S = FRAME_MS / 1000
SILENT_POWER = 1e-14  # spectral envelope of a silent frame
MAX_LEAD_IN_S = 0.18  # onset consonants before a note after a rest take at most this long
MIN_SUNG_FRAMES = 6  # a note under 30 ms is not sung, as in the formant singer
LATE_SHARE = 0.0  # share of the onset consonants sung after the note start (0: the vowel is on the beat)
# the spoken vowel's parts: its onset (the transition out of the consonant), its steady part, its
# end (a diphthong's second element, the transition into the coda)
VOWEL_ONSET, VOWEL_END = 0.25, 0.45
END_SHARE = 0.25  # a stretched vowel's end takes at least this share of the note (a diphthong glides late)
GLIDE_LEAD = 1.0  # share of the portamento sung before the vowel (1: the legato pitch arrives with the vowel)


@dataclass(frozen=True)
class Syllable:
    """One spoken syllable in WORLD frames: [0, onset) onset consonants, [onset, vowel_end) the
    vowel (stretched to fill the note), [vowel_end, frames) the coda."""

    sp: np.ndarray  # (frames, bins) spectral envelope (power), float32
    ap: np.ndarray  # (frames, bins) aperiodicity 0..1, float32
    voiced: np.ndarray  # (frames,) bool
    onset: int
    vowel_end: int
    rate: int

    @property
    def frames(self) -> int:
        return len(self.voiced)


@dataclass(frozen=True)
class Analysis:
    """WORLD analysis of a spoken utterance (a whole line, or one syllable)."""

    f0: np.ndarray
    sp: np.ndarray
    ap: np.ndarray
    rate: int

    def syllable(self, start: int, onset: int, vowel_end: int, end: int) -> Syllable:
        """The frames [start, end) as a syllable with its vowel at [onset, vowel_end) (absolute)."""
        end = max(min(end, len(self.f0)), start + 1)
        onset = min(max(onset, start), end - 1)
        vowel_end = min(max(vowel_end, onset + 1), end)
        return Syllable(sp=self.sp[start:end], ap=self.ap[start:end], voiced=self.f0[start:end] > 0,
                        onset=onset - start, vowel_end=vowel_end - start, rate=self.rate)


def analyse(samples: np.ndarray, rate: int, f0_floor: float = 71.0) -> Analysis:
    """WORLD analysis (DIO + StoneMask f0, CheapTrick envelope, D4C aperiodicity). D4C, the costly
    part, runs on every fourth frame and is interpolated: aperiodicity changes slowly."""
    import pyworld

    x = np.ascontiguousarray(samples, dtype=np.float64)
    f0, times = pyworld.dio(x, rate, f0_floor=60.0, f0_ceil=600.0, frame_period=FRAME_MS)
    f0 = pyworld.stonemask(x, f0, times, rate)
    fft_size = pyworld.get_cheaptrick_fft_size(rate, f0_floor)
    sp = pyworld.cheaptrick(x, f0, times, rate, f0_floor=f0_floor, fft_size=fft_size)
    coarse = np.unique(np.append(np.arange(0, len(times), 4), len(times) - 1))
    ap_coarse = pyworld.d4c(x, np.ascontiguousarray(f0[coarse]), np.ascontiguousarray(times[coarse]), rate,
                            fft_size=fft_size)
    frames = np.arange(len(times))
    left = np.clip(np.searchsorted(coarse, frames, side="right") - 1, 0, max(len(coarse) - 2, 0))
    right = np.minimum(left + 1, len(coarse) - 1)
    w = np.clip((frames - coarse[left]) / np.maximum(coarse[right] - coarse[left], 1), 0.0, 1.0)[:, None]
    ap = (1 - w) * ap_coarse[left] + w * ap_coarse[right]
    return Analysis(f0=f0, sp=sp.astype(np.float32), ap=ap.astype(np.float32), rate=rate)


def shape_timbre(analysis: Analysis, warp: float, tilt_db_per_octave: float,
                 envelope: tuple[tuple[float, float], ...] | None = None) -> Analysis:
    """The voice's timbre on a speaker's envelope: frequency warp (formants move by ``warp``),
    a slope added above 500 Hz, and, given a target ``envelope`` ((Hz, dB) points), an equaliser
    taking the speaker's average voiced envelope towards it (within +-12 dB)."""
    sp = analysis.sp.astype(np.float64)
    bins = sp.shape[1]
    freqs = np.arange(bins) * analysis.rate / (2 * (bins - 1))
    if abs(warp - 1.0) > 1e-3:
        source = np.clip(np.arange(bins) / warp, 0, bins - 1)
        lo = np.floor(source).astype(int)
        hi = np.minimum(lo + 1, bins - 1)
        w = source - lo
        log_sp = np.log(np.maximum(sp, 1e-20))
        sp = np.exp((1 - w) * log_sp[:, lo] + w * log_sp[:, hi])
    gain_db = tilt_db_per_octave * np.log2(np.maximum(freqs, 500.0) / 500.0)
    if envelope:
        voiced = analysis.f0 > 0
        if voiced.any():
            points = sorted(envelope)
            target = np.interp(np.log2(np.maximum(freqs, 50.0)), np.log2([p[0] for p in points]),
                               [p[1] for p in points])
            ltas = 10 * np.log10(np.maximum(sp[voiced].mean(axis=0), 1e-20)) + gain_db
            band = (freqs >= 300) & (freqs <= 4000)
            eq = target - ltas
            eq -= eq[band].mean()
            gain_db = gain_db + np.clip(eq, -12.0, 12.0)
    sp *= 10 ** (gain_db / 10)[None, :]
    return Analysis(f0=analysis.f0, sp=sp.astype(np.float32), ap=analysis.ap, rate=analysis.rate)


def sung_end(notes: list[SungNote], i: int, style: VocalStyle) -> float:
    """When note ``i``'s voice stops: the style's vowel length of the note (legato inside a line, at
    least 95%), never past the next note's start - the formant singer's rule."""
    note = notes[i]
    following = notes[i + 1] if i + 1 < len(notes) else None
    share = style.vowel_length if note.phrase_end or following is None else max(style.vowel_length, 0.95)
    end = note.start_s + (note.end_s - note.start_s) * share
    return min(end, following.start_s) if following is not None else end


def phrases(notes: list[SungNote]) -> list[list[int]]:
    """Indices of notes grouped into phrases (a line, split again at rests over a second)."""
    groups: list[list[int]] = []
    for i, note in enumerate(notes):
        if groups and not notes[i - 1].phrase_end and note.start_s - notes[i - 1].end_s < 1.0:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


@dataclass(frozen=True)
class Placement:
    """Where a note's syllable goes, in output frames: onset consonants [lead_in, vowel), the vowel
    [vowel, coda), the coda [coda, end)."""

    lead_in: int
    vowel: int
    coda: int
    end: int


def place(notes: list[SungNote], sources: list[Syllable], style: VocalStyle) -> list[Placement | None]:
    """Frame placement of every note (None: too short to sing). The vowel starts on the note; the
    onset consonants come before it at their spoken length, taking at most 40% of the time since
    the previous note's start and at most MAX_LEAD_IN_S (the previous note ends where they begin);
    the coda takes at most 40% of the note's sung part."""
    starts = [int(round(n.start_s / HOP_S)) for n in notes]
    ends = [int(round(sung_end(notes, i, style) / HOP_S)) for i in range(len(notes))]
    lead = []
    for i, source in enumerate(sources):
        room = int(MAX_LEAD_IN_S / HOP_S)
        room = min(room, int(0.4 * (starts[i] - starts[i - 1])) if i > 0 else starts[i])
        lead.append(max(0, min(source.onset, room)))
    late = [int(round(LATE_SHARE * n)) for n in lead]  # the vowel's delay after the note start
    placed: list[Placement | None] = []
    for i, source in enumerate(sources):
        end = ends[i] if i + 1 == len(notes) else min(ends[i], starts[i + 1] + late[i + 1] - lead[i + 1])
        vowel = starts[i] + late[i]
        if end - vowel < MIN_SUNG_FRAMES:
            placed.append(None)
            continue
        coda = min(source.frames - source.vowel_end, int(0.4 * (end - vowel)))
        placed.append(Placement(lead_in=vowel - lead[i], vowel=vowel, coda=end - coda, end=end))
    return placed


def vowel_map(held: int, spoken: int) -> np.ndarray:
    """Spoken vowel share (0..1) per output frame of a vowel held ``held`` frames that was spoken in
    ``spoken``. Held no longer than spoken: linear. Held longer: the onset (the consonant-vowel
    transition, where a listener hears which consonant it was) at its spoken speed, the steady part
    stretched, the end (a diphthong's glide) at its spoken speed but over at least END_SHARE of
    the note, as singers glide late."""
    u = (np.arange(held) + 0.5) / held
    if held <= spoken:
        return u
    ratio = spoken / held
    onset_out = VOWEL_ONSET * ratio
    end_out = 1.0 - max(END_SHARE, VOWEL_END * ratio)
    return np.interp(u, (0.0, onset_out, end_out, 1.0), (0.0, VOWEL_ONSET, 1.0 - VOWEL_END, 1.0))


def _positions(source: Syllable, at: Placement) -> np.ndarray:
    """Fractional source frame per output frame: consonants linear (compressed when shortened), the
    vowel along :func:`vowel_map`."""
    lo, hi = source.onset, source.vowel_end
    lead, coda = at.vowel - at.lead_in, at.end - at.coda
    return np.concatenate([
        np.linspace(0, lo, lead, endpoint=False),
        lo + vowel_map(at.coda - at.vowel, max(hi - lo, 1)) * max(hi - lo - 1, 0),
        np.linspace(hi, source.frames - 1, coda) if coda else np.zeros(0),
    ])


def _f0_frames(note: SungNote, prev: SungNote | None, at: Placement, style: VocalStyle) -> np.ndarray:
    """The note's frequency per frame of [lead_in, end): delayed vibrato from the vowel, a glide
    from ``prev`` over the style's portamento time ending as the vowel starts (GLIDE_LEAD of it
    before the vowel): legato onset consonants start at the previous pitch and the new one arrives
    with the vowel, so the note is heard where its vowel starts."""
    t = (np.arange(at.end - at.lead_in) - (at.vowel - at.lead_in)) * HOP_S  # 0 at the vowel
    cents = np.zeros(len(t))
    if prev is not None and note.start_s - prev.end_s < 0.15 and style.portamento_s > 0:
        glide = np.clip(t / style.portamento_s + GLIDE_LEAD, 0.0, 1.0)
        cents += (prev.pitch - note.pitch) * 100.0 * (1.0 - glide) ** 2
    since = np.maximum(t - style.vibrato_delay_s, 0.0)
    cents += style.vibrato_cents * np.clip(since / 0.2, 0.0, 1.0) * np.sin(2 * np.pi * style.vibrato_rate_hz * since)
    return 440.0 * 2 ** ((note.pitch - 69) / 12.0 + cents / 1200.0)


def _vowel_power(source: Syllable) -> float:
    return float(source.sp[source.onset:source.vowel_end].sum(axis=1).mean()) + 1e-12


def _first_frame(phrase: list[int], placed: list[Placement | None]) -> int:
    return min((placed[i].lead_in for i in phrase if placed[i] is not None), default=0)


def _sing_phrase(notes: list[SungNote], phrase: list[int], sources: list[Syllable], placed: list[Placement | None],
                 style: VocalStyle, breath: np.ndarray, reference: float) -> tuple[float, np.ndarray]:
    """(start s, samples at the speaker's rate) of one phrase, resynthesised in one WORLD call."""
    import pyworld

    sung = [i for i in phrase if placed[i] is not None]
    rate, bins = sources[0].rate, sources[0].sp.shape[1]
    if not sung:
        return 0.0, np.zeros(0)
    first = _first_frame(phrase, placed) - 2
    length = max(placed[i].end for i in sung) + 4 - first
    f0 = np.zeros(length)
    sp = np.full((length, bins), SILENT_POWER)
    ap = np.ones((length, bins))
    for i in sung:
        note, source, at = notes[i], sources[i], placed[i]
        a, b = at.lead_in - first, at.end - first
        pos = _positions(source, at)
        i0 = np.clip(np.floor(pos).astype(int), 0, source.frames - 1)
        i1 = np.minimum(i0 + 1, source.frames - 1)
        w = (pos - i0)[:, None]
        # even out the speaker's declination: vowels towards one level (partly), then velocity
        level = (reference / _vowel_power(source)) ** 0.7 * (0.55 + 0.45 * note.velocity / 127.0) ** 2
        in_vowel = (pos >= source.onset) & (pos < source.vowel_end)
        sp[a:b] = np.minimum(level, 8.0) * ((1 - w) * source.sp[i0] + w * source.sp[i1])
        voiced = source.voiced[np.rint(pos).astype(int)] | in_vowel
        frame_ap = (1 - w) * source.ap[i0] + w * source.ap[i1]
        ap[a:b] = np.where(voiced[:, None], frame_ap + (1 - frame_ap) * breath, frame_ap)
        prev = notes[i - 1] if i > 0 and i - 1 in phrase else None
        f0[a:b] = np.where(voiced, _f0_frames(note, prev, at, style), 0.0)
    return first * HOP_S, pyworld.synthesize(f0, sp, ap, rate, FRAME_MS)


def sing(notes: list[SungNote], sources: list[Syllable], voice: VoiceProfile, style: VocalStyle, duration_s: float,
         sample_rate: int, workers: int = 2) -> np.ndarray:
    """Sing ``notes`` (``sources[i]`` is note i's spoken syllable) as a mono float32 track of
    ``duration_s`` seconds at ``sample_rate``, peak at -3 dBFS."""
    rate, bins = sources[0].rate, sources[0].sp.shape[1]
    freqs = np.arange(bins) * rate / (2 * (bins - 1))
    breath = np.clip((voice.breath + style.breathiness) * np.clip((freqs - voice.breath_from_hz) / 2000.0, 0, 1), 0.0, 0.9)
    placed = place(notes, sources, style)
    reference = float(np.median([_vowel_power(s) for s in sources]))
    track = np.zeros(int(round(duration_s * sample_rate)) + 1)
    up, down = sample_rate // gcd(sample_rate, rate), rate // gcd(sample_rate, rate)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for start_s, y in pool.map(lambda p: _sing_phrase(notes, p, sources, placed, style, breath, reference),
                                   phrases(notes)):
            y = resample_poly(y, up, down) if up != down and len(y) else y
            offset = int(round(start_s * sample_rate))
            lo, hi = max(offset, 0), min(offset + len(y), len(track))
            if hi > lo:
                track[lo:hi] += y[lo - offset:hi - offset]
    peak = np.max(np.abs(track))
    if peak > 0:
        track *= 10 ** (-3 / 20) / peak
    return track.astype(np.float32)
