"""A formant singer in numpy/scipy: a band-limited glottal source at the note's pitch, shaped by a
cascade of formant resonators per ARPAbet phoneme, with noise for fricatives, bursts and breath.

The pitch is exact by construction (phase accumulation of the note frequency plus vibrato), every
noise comes from a generator seeded by the song's seed and the note's index, so the same notes give
the same samples. Each phoneme is rendered as its own segment with short overlapping ramps, which
keeps the filters time-invariant (fast ``lfilter`` calls) while transitions stay smooth.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.signal import butter, lfilter, sosfilt

from music.vocals.base import VocalsProvider
from music.vocals.style import SungNote, VocalStyle, VoiceProfile, split_syllable

# F1, F2, F3 of an adult tenor-ish tract (Hz); the voice profile scales them. Diphthongs glide.
VOWEL_FORMANTS: dict[str, tuple[tuple[float, float, float], ...]] = {
    "IY": ((280, 2250, 2950),), "IH": ((400, 1900, 2550),), "EH": ((550, 1770, 2490),),
    "AE": ((690, 1660, 2490),), "AA": ((750, 1100, 2450),), "AO": ((590, 880, 2540),),
    "UH": ((450, 1030, 2380),), "UW": ((310, 870, 2250),), "AH": ((640, 1190, 2390),),
    "ER": ((490, 1350, 1690),),
    "AY": ((750, 1150, 2450), (350, 2100, 2800)), "AW": ((750, 1100, 2450), (420, 900, 2300)),
    "EY": ((520, 1800, 2500), (330, 2150, 2850)), "OW": ((560, 900, 2450), (380, 800, 2300)),
    "OY": ((580, 870, 2500), (380, 2000, 2700)),
}
# voiced sonorant consonants: formants and a level relative to a vowel
SONORANTS: dict[str, tuple[tuple[float, float, float], float]] = {
    "M": ((280, 1000, 2200), 0.35), "N": ((280, 1600, 2600), 0.35), "NG": ((280, 2100, 2700), 0.3),
    "L": ((380, 1100, 2700), 0.55), "R": ((440, 1150, 1600), 0.55), "W": ((320, 700, 2200), 0.5),
    "Y": ((290, 2100, 2900), 0.5),
}
# fricatives: (low Hz, high Hz, level, voiced)
FRICATIVES: dict[str, tuple[float, float, float, bool]] = {
    "S": (4500, 9000, 0.22, False), "Z": (4500, 9000, 0.16, True), "SH": (2200, 6000, 0.25, False),
    "ZH": (2200, 6000, 0.18, True), "F": (1500, 8000, 0.08, False), "V": (1500, 8000, 0.07, True),
    "TH": (1500, 8000, 0.07, False), "DH": (1500, 6000, 0.07, True), "HH": (500, 4000, 0.12, False),
}
# plosives and affricates: (burst low Hz, burst high Hz, voiced, frication after the burst)
PLOSIVES: dict[str, tuple[float, float, bool, str | None]] = {
    "P": (400, 2000, False, None), "B": (300, 1500, True, None), "T": (3000, 7000, False, None),
    "D": (2500, 6000, True, None), "K": (1500, 4000, False, None), "G": (1200, 3500, True, None),
    "CH": (2500, 6000, False, "SH"), "JH": (2200, 5500, True, "ZH"),
}
_BANDWIDTHS = (80.0, 100.0, 150.0, 250.0, 300.0)
_HIGH_FORMANTS = (3500.0, 4400.0)
_RAMP_S = 0.008
_TABLE = 4096


def _duration(phoneme: str) -> float:
    if phoneme in PLOSIVES:
        return 0.09 if PLOSIVES[phoneme][3] else 0.055
    if phoneme in FRICATIVES:
        return 0.05 if phoneme == "HH" else 0.075
    return 0.06


@lru_cache(maxsize=256)
def _glottal_table(harmonics: int, tilt: float) -> np.ndarray:
    """One period of a band-limited glottal pulse: harmonics 1..K falling as k**-tilt."""
    spectrum = np.zeros(_TABLE // 2 + 1, dtype=complex)
    k = np.arange(1, harmonics + 1)
    spectrum[1:harmonics + 1] = k ** -tilt
    table = np.fft.irfft(spectrum, _TABLE)
    table = np.roll(table, _TABLE // 2)
    return (table / np.max(np.abs(table))).astype(np.float64)


@lru_cache(maxsize=512)
def _resonator(freq: float, bandwidth: float, sr: int) -> tuple[np.ndarray, np.ndarray]:
    t = 1.0 / sr
    c = -np.exp(-2 * np.pi * bandwidth * t)
    b = 2 * np.exp(-np.pi * bandwidth * t) * np.cos(2 * np.pi * freq * t)
    return np.array([1.0 - b - c]), np.array([1.0, -b, -c])


@lru_cache(maxsize=64)
def _bandpass(low: float, high: float, sr: int) -> np.ndarray:
    high = min(high, 0.45 * sr)
    return butter(2, [low, high], btype="bandpass", fs=sr, output="sos")


def _formant_filter(x: np.ndarray, formants: tuple[float, ...], scale: float, sr: int) -> np.ndarray:
    y = x
    for freq, bw in zip(tuple(formants) + _HIGH_FORMANTS, _BANDWIDTHS):
        f = min(freq * scale, 0.45 * sr)
        b, a = _resonator(round(f, 1), bw, sr)
        y = lfilter(b, a, y)
    return y


def _ramp(n: int, ramp: int) -> np.ndarray:
    env = np.ones(n)
    r = min(ramp, n // 2)
    if r > 0:
        env[:r] = np.linspace(0.0, 1.0, r)
        env[-r:] = np.linspace(1.0, 0.0, r)
    return env


def _segments(note: SungNote, end_s: float) -> list[tuple[str, float, float]]:
    """(phoneme, start s, end s) covering the note; consonants shrink to leave the vowel >= 55%."""
    onset, vowel, coda = split_syllable(note.syllable.phonemes)
    length = end_s - note.start_s
    consonant_s = sum(_duration(p) for p in onset + coda)
    scale = min(1.0, 0.45 * length / consonant_s) if consonant_s else 1.0
    t = note.start_s
    segs: list[tuple[str, float, float]] = []
    for p in onset:
        d = _duration(p) * scale
        segs.append((p, t, t + d))
        t += d
    coda_s = sum(_duration(p) for p in coda) * scale
    vowel_end = end_s - coda_s
    parts = VOWEL_FORMANTS.get(vowel, VOWEL_FORMANTS["AH"])
    if len(parts) == 2:
        mid = t + 0.6 * (vowel_end - t)
        segs += [(vowel + ":1", t, mid), (vowel + ":2", mid, vowel_end)]
    else:
        segs.append((vowel, t, vowel_end))
    t = vowel_end
    for p in coda:
        d = _duration(p) * scale
        segs.append((p, t, t + d))
        t += d
    return segs


def _f0_curve(note: SungNote, prev: SungNote | None, n: int, style: VocalStyle, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    cents = np.zeros(n)
    if prev is not None and note.start_s - prev.end_s < 0.15 and style.portamento_s > 0:
        glide = np.clip(t / style.portamento_s, 0.0, 1.0)
        cents += (prev.pitch - note.pitch) * 100.0 * (1.0 - glide) ** 2
    onset = np.clip((t - style.vibrato_delay_s) / 0.2, 0.0, 1.0)
    cents += style.vibrato_cents * onset * np.sin(2 * np.pi * style.vibrato_rate_hz * np.maximum(t - style.vibrato_delay_s, 0))
    return 440.0 * 2 ** ((note.pitch - 69) / 12.0 + cents / 1200.0)


def _sing_note(note: SungNote, prev: SungNote | None, end_s: float, voice: VoiceProfile, style: VocalStyle,
               seed: int, sr: int) -> tuple[int, np.ndarray]:
    ramp = int(_RAMP_S * sr)
    start = int(round(note.start_s * sr))
    n = int(round(end_s * sr)) - start
    pad = ramp
    total = n + 2 * pad
    rng = np.random.default_rng([seed, note.index])
    f0 = _f0_curve(note, prev, total, style, sr)
    harmonics = max(1, int(0.45 * sr / (f0.max() * 1.02)))
    phase = np.cumsum(f0 / sr)
    frac = phase - np.floor(phase)
    table = _glottal_table(harmonics, voice.tilt)
    voiced = np.interp(frac * _TABLE, np.arange(_TABLE + 1), np.append(table, table[0]))
    breath = voice.breath + style.breathiness
    noise = rng.standard_normal(total)
    source = voiced + breath * 0.6 * noise * (0.4 + 0.6 * (np.cos(2 * np.pi * frac) > 0))
    out = np.zeros(total)
    scale = voice.formant_scale
    f1_floor = 1.1 * 440.0 * 2 ** ((note.pitch - 69) / 12.0)  # singers raise F1 above a high f0
    for phoneme, s0, s1 in _segments(note, end_s):
        a = max(int(round((s0 - note.start_s) * sr)), 0)
        b = min(int(round((s1 - note.start_s) * sr)) + 2 * pad, total)
        if b <= a:
            continue
        window = _ramp(b - a, ramp)
        base = phoneme.split(":")[0]
        if base in VOWEL_FORMANTS or ":" in phoneme:
            parts = VOWEL_FORMANTS.get(base, VOWEL_FORMANTS["AH"])
            f = parts[1] if phoneme.endswith(":2") else parts[0]
            f = (max(f[0], f1_floor / scale), f[1], f[2])
            seg = _formant_filter(source[a:b], f, scale, sr)
        elif base in SONORANTS:
            f, level = SONORANTS[base]
            seg = level * _formant_filter(source[a:b], f, scale, sr)
        elif base in FRICATIVES:
            low, high, level, is_voiced = FRICATIVES[base]
            seg = level * 12.0 * sosfilt(_bandpass(low, high, sr), noise[a:b])
            if is_voiced:
                seg = seg + 0.25 * _formant_filter(voiced[a:b], (250, 1200, 2500), scale, sr)
        elif base in PLOSIVES:
            low, high, is_voiced, frication = PLOSIVES[base]
            length = b - a
            seg = np.zeros(length)
            if is_voiced:
                seg += 0.12 * _formant_filter(voiced[a:b], (220, 900, 2400), scale, sr)
            burst_at = int(length * (0.35 if frication else 0.6))
            burst = sosfilt(_bandpass(low, high, sr), noise[a + burst_at:b])
            decay = np.exp(-np.arange(len(burst)) / (0.012 * sr if not frication else 0.03 * sr))
            seg[burst_at:] += (6.0 if not frication else 4.0) * burst * decay
        else:
            continue
        out[a:b] += seg * window
    velocity = 0.55 + 0.45 * note.velocity / 127.0
    return start - pad, out * velocity * _ramp(total, int(0.012 * sr))


def sing_formant(notes: list[SungNote], voice: VoiceProfile, style: VocalStyle, duration_s: float, seed: int,
                 sample_rate: int) -> np.ndarray:
    """Sing ``notes`` and return a mono float32 track of ``duration_s`` seconds, peak at -3 dBFS."""
    track = np.zeros(int(round(duration_s * sample_rate)) + 1)
    previous: SungNote | None = None
    for i, note in enumerate(notes):
        following = notes[i + 1] if i + 1 < len(notes) else None
        held = note.end_s - note.start_s
        end_s = note.start_s + held * (style.vowel_length if note.phrase_end or following is None else
                                       max(style.vowel_length, 0.95))
        if following is not None:
            end_s = min(end_s, following.start_s)
        if end_s - note.start_s < 0.03:
            continue
        offset, audio = _sing_note(note, previous, end_s, voice, style, seed, sample_rate)
        lo = max(offset, 0)
        hi = min(offset + len(audio), len(track))
        if hi > lo:
            track[lo:hi] += audio[lo - offset:hi - offset]
        previous = note
    peak = np.max(np.abs(track))
    if peak > 0:
        track *= 10 ** (-3 / 20) / peak
    return track.astype(np.float32)


class FormantSinger(VocalsProvider):
    """Own-code formant singer: glottal source + formant filters per ARPAbet phoneme. Deterministic."""

    name = "formant"
    version = "1"
    capabilities = frozenset({"sung-only", "deterministic", "license:own"})

    def sing(self, notes, voice, style, duration_s, seed):
        return sing_formant(notes, voice, style, duration_s, seed, self.sample_rate)
