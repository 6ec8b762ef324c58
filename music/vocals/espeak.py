"""An espeak-ng singer: espeak-ng speaks each sung syllable, the WORLD vocoder sings it.

Optional, because espeak-ng is GPL-3: it runs only as a separate program (``espeak-ng`` on PATH,
Debian package ``espeak-ng``), never linked or imported, and the provider is registered only when
that program is found; without it the engine sings with the own-code formant singer.

Each distinct syllable (its ARPAbet phonemes converted to espeak-ng's phoneme mnemonics) is spoken
once per voice; WORLD analyses it (DIO + StoneMask f0, CheapTrick spectral envelope, D4C
aperiodicity). Per note, the onset and coda consonants keep their spoken length (shortened when the
note is short) and the vowel is stretched to fill the note; f0 is replaced by the note's pitch with
the genre's vibrato and portamento, breathiness raises the aperiodicity above 1.5 kHz, and each
phrase is resynthesised in one WORLD call. espeak-ng's output is deterministic for the same input,
and WORLD's noise generator is reseeded on every synthesis call, so the same notes give the same
samples.
"""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from math import gcd

import numpy as np
from scipy.signal import resample_poly

from music.errors import StageError
from music.vocals.base import VocalsProvider
from music.vocals.style import SungNote, VocalStyle, VoiceProfile, split_syllable

ESPEAK = "espeak-ng"
FRAME_MS = 5.0
_SILENT_POWER = 1e-14  # spectral envelope of a silent frame
_BREATH_FROM_HZ = 1500.0


@dataclass(frozen=True)
class EspeakVoice:
    """The espeak-ng voice (language + variant) a profile speaks with, its base pitch and speed."""

    voice: str  # -v, e.g. "en-us+f3" (variants live in espeak-ng-data/voices/!v)
    pitch: int  # -p, 0..99
    speed: int  # -s, words per minute (sets the consonants' length; vowels are stretched anyway)
    f0_floor: float  # below the voice's lowest spoken f0; sets WORLD's FFT size (synthesis cost)


ESPEAK_VOICES: dict[str, EspeakVoice] = {
    "alto": EspeakVoice("en-us+f4", 65, 150, 130.0),  # speaks at 150-270 Hz: 512-point FFTs
    "tenor": EspeakVoice("en-us+m3", 45, 150, 65.0),  # speaks at 67-160 Hz: 1024-point FFTs
}

# ARPAbet (CMUdict) -> espeak-ng English phoneme mnemonics
ARPABET_TO_ESPEAK: dict[str, str] = {
    "AA": "A:", "AE": "a", "AH": "V", "AO": "O:", "AW": "aU", "AY": "aI", "EH": "E", "ER": "3:", "EY": "eI",
    "IH": "I", "IY": "i:", "OW": "oU", "OY": "OI", "UH": "U", "UW": "u:",
    "B": "b", "CH": "tS", "D": "d", "DH": "D", "F": "f", "G": "g", "HH": "h", "JH": "dZ", "K": "k", "L": "l",
    "M": "m", "N": "n", "NG": "N", "P": "p", "R": "r", "S": "s", "SH": "S", "T": "t", "TH": "T", "V": "v",
    "W": "w", "Y": "j", "Z": "z", "ZH": "Z",
}


def espeak_available() -> bool:
    """Whether the espeak-ng program is on PATH (the provider is registered only then)."""
    return shutil.which(ESPEAK) is not None


def espeak_phonemes(phonemes: list[str]) -> str:
    """A syllable's ARPAbet phonemes as an espeak-ng phoneme string, the vowel stressed (a sung
    syllable gets a full vowel); unknown symbols are dropped, as the formant singer does."""
    onset, vowel, coda = split_syllable(phonemes)
    mapped = [ARPABET_TO_ESPEAK[p] for p in onset if p in ARPABET_TO_ESPEAK]
    mapped.append("'" + ARPABET_TO_ESPEAK[vowel])
    mapped += [ARPABET_TO_ESPEAK[p] for p in coda if p in ARPABET_TO_ESPEAK]
    return "".join(mapped)


def _parse_wav(data: bytes) -> tuple[np.ndarray, int]:
    """espeak-ng's streamed WAV (its size fields are placeholders): 16-bit mono samples and rate."""
    at = data.find(b"data", 12)
    if data[:4] != b"RIFF" or at < 0:
        raise StageError("espeak_failed", "espeak-ng wrote no WAV data", retryable=True)
    rate = int.from_bytes(data[24:28], "little")
    body = data[at + 8:]
    samples = np.frombuffer(body[: len(body) // 2 * 2], dtype="<i2").astype(np.float64) / 32768.0
    return samples, rate


def speak(utterance: str, voice: EspeakVoice) -> tuple[np.ndarray, int]:
    """Run espeak-ng on ``utterance`` (text, or phonemes in ``[[...]]``): float samples and rate."""
    command = [ESPEAK, "-v", voice.voice, "-p", str(voice.pitch), "-s", str(voice.speed), "--stdout", utterance]
    try:
        done = subprocess.run(command, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StageError("espeak_failed", f"could not run {ESPEAK}: {exc}", retryable=True) from exc
    if done.returncode != 0:
        raise StageError("espeak_failed", f"{ESPEAK} exited {done.returncode}: "
                          f"{done.stderr.decode(errors='replace').strip()[:200]}", retryable=True)
    return _parse_wav(done.stdout)


def utterance_for(note: SungNote) -> str:
    """What espeak-ng is asked to say for a note: the syllable's phonemes, else its letters."""
    if note.syllable.phonemes:
        return f"[[{espeak_phonemes(note.syllable.phonemes)}]]"
    letters = "".join(c for c in note.syllable.text if c.isalpha())
    return letters or "[[V]]"


@dataclass(frozen=True)
class Spoken:
    """A spoken syllable in WORLD's terms, trimmed of silence, with the vowel's frame span."""

    voiced: np.ndarray  # (frames,) bool
    sp: np.ndarray  # (frames, bins) spectral envelope (power)
    ap: np.ndarray  # (frames, bins) aperiodicity 0..1
    vowel: tuple[int, int]  # [lo, hi) frames that are stretched to fill the note
    rate: int


def analyse(samples: np.ndarray, rate: int, f0_floor: float = 71.0) -> Spoken:
    """WORLD analysis of a spoken syllable; the vowel is the voiced run around the loudest voiced
    frame that stays within 9 dB of it. Aperiodicity (D4C, the costly part) is measured every
    fourth frame and interpolated: it changes slowly within a syllable."""
    import pyworld

    loud = np.flatnonzero(np.abs(samples) > 10 ** (-50 / 20) * max(np.abs(samples).max(), 1e-9))
    if loud.size == 0 or np.abs(samples).max() < 1e-4:
        raise StageError("espeak_failed", "espeak-ng spoke silence", retryable=True)
    margin = int(0.01 * rate)
    x = np.ascontiguousarray(samples[max(loud[0] - margin, 0):loud[-1] + margin], dtype=np.float64)
    f0, times = pyworld.dio(x, rate, f0_floor=60.0, f0_ceil=600.0, frame_period=FRAME_MS)
    f0 = pyworld.stonemask(x, f0, times, rate)
    fft_size = pyworld.get_cheaptrick_fft_size(rate, f0_floor)
    sp = pyworld.cheaptrick(x, f0, times, rate, f0_floor=f0_floor, fft_size=fft_size)
    coarse = np.unique(np.append(np.arange(0, len(times), 4), len(times) - 1))
    ap_coarse = pyworld.d4c(x, np.ascontiguousarray(f0[coarse]), np.ascontiguousarray(times[coarse]), rate,
                            fft_size=fft_size)
    left = np.clip(np.searchsorted(coarse, np.arange(len(times)), side="right") - 1, 0, max(len(coarse) - 2, 0))
    right = np.minimum(left + 1, len(coarse) - 1)
    span = np.maximum(coarse[right] - coarse[left], 1)
    w = np.clip((np.arange(len(times)) - coarse[left]) / span, 0.0, 1.0)[:, None]
    ap = (1 - w) * ap_coarse[left] + w * ap_coarse[right]
    energy = sp.sum(axis=1)
    voiced = f0 > 0
    if voiced.any():
        peak = int(np.flatnonzero(voiced)[np.argmax(energy[voiced])])
        strong = voiced & (energy >= energy[peak] * 10 ** (-0.9))
        lo, hi = peak, peak + 1
        while lo > 0 and strong[lo - 1]:
            lo -= 1
        while hi < len(strong) and strong[hi]:
            hi += 1
    else:
        lo, hi = len(f0) // 3, max(len(f0) // 3 + 1, 2 * len(f0) // 3)
    return Spoken(voiced=voiced, sp=sp.astype(np.float32), ap=ap.astype(np.float32), vowel=(lo, hi), rate=rate)


@lru_cache(maxsize=256)
def spoken_syllable(utterance: str, voice: EspeakVoice) -> Spoken:
    """``utterance`` spoken by ``voice`` and analysed; cached (about 0.3 MB each), since songs repeat
    their syllables and a worker sings many songs."""
    return analyse(*speak(utterance, voice), f0_floor=voice.f0_floor)


def _frame_positions(spoken: Spoken, frames: int) -> np.ndarray:
    """Fractional source frame for each of ``frames`` output frames: consonants at spoken speed (or
    faster, so they take at most 45% of the note), the vowel stretched over the rest, holding its
    first half for 75% of the time so a diphthong glides late, as singers do."""
    lo, hi = spoken.vowel
    total = len(spoken.voiced)
    consonants = lo + (total - hi)
    scale = min(1.0, 0.45 * frames / consonants) if consonants else 1.0
    onset, coda = int(round(lo * scale)), int(round((total - hi) * scale))
    held = max(frames - onset - coda, 1)
    u = (np.arange(held) + 0.5) / held
    warped = np.where(u < 0.75, u / 0.75 * 0.5, 0.5 + (u - 0.75) / 0.25 * 0.5)
    return np.concatenate([
        np.linspace(0, lo, onset, endpoint=False),
        lo + warped * (hi - lo - 1),
        np.linspace(hi, total - 1, coda) if coda else np.zeros(0),
    ])[:frames]


def _f0_frames(note: SungNote, prev: SungNote | None, frames: int, style: VocalStyle) -> np.ndarray:
    """The note's frequency per frame, with the style's delayed vibrato and a glide from ``prev``."""
    t = np.arange(frames) * FRAME_MS / 1000
    cents = np.zeros(frames)
    if prev is not None and note.start_s - prev.end_s < 0.15 and style.portamento_s > 0:
        glide = np.clip(t / style.portamento_s, 0.0, 1.0)
        cents += (prev.pitch - note.pitch) * 100.0 * (1.0 - glide) ** 2
    since = np.maximum(t - style.vibrato_delay_s, 0.0)
    cents += style.vibrato_cents * np.clip(since / 0.2, 0.0, 1.0) * np.sin(2 * np.pi * style.vibrato_rate_hz * since)
    return 440.0 * 2 ** ((note.pitch - 69) / 12.0 + cents / 1200.0)


def sung_end(notes: list[SungNote], i: int, style: VocalStyle) -> float:
    """When note ``i``'s voice stops: the style's vowel length of the note (legato inside a line, at
    least 95%), never past the next note's start - the formant singer's rule."""
    note = notes[i]
    following = notes[i + 1] if i + 1 < len(notes) else None
    share = style.vowel_length if note.phrase_end or following is None else max(style.vowel_length, 0.95)
    end = note.start_s + (note.end_s - note.start_s) * share
    return min(end, following.start_s) if following is not None else end


def _phrases(notes: list[SungNote]) -> list[list[int]]:
    """Indices of notes grouped into phrases (a line, split again at rests over a second)."""
    groups: list[list[int]] = []
    for i, note in enumerate(notes):
        if groups and not notes[i - 1].phrase_end and note.start_s - notes[i - 1].end_s < 1.0:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def _sing_phrase(notes: list[SungNote], phrase: list[int], spoken: dict[str, Spoken], style: VocalStyle,
                 breath: np.ndarray) -> tuple[float, np.ndarray]:
    """(start s, samples at the spoken rate) of one phrase: the notes' frames laid end to end on the
    note timings, silence between them, resynthesised by WORLD in one call."""
    import pyworld

    hop = FRAME_MS / 1000
    first = next(iter(spoken.values()))
    rate, bins = first.rate, first.sp.shape[1]
    start_frame = int(round(notes[phrase[0]].start_s / hop)) - 2
    length = int(round(max(sung_end(notes, i, style) for i in phrase) / hop)) + 4 - start_frame
    f0 = np.zeros(length)
    sp = np.full((length, bins), _SILENT_POWER)
    ap = np.ones((length, bins))
    for i in phrase:
        note = notes[i]
        a = int(round(note.start_s / hop)) - start_frame
        b = int(round(sung_end(notes, i, style) / hop)) - start_frame
        if b - a < 6:  # under 30 ms: not sung, as in the formant singer
            continue
        source = spoken[utterance_for(note)]
        pos = _frame_positions(source, b - a)
        i0 = np.floor(pos).astype(int)
        i1 = np.minimum(i0 + 1, len(source.voiced) - 1)
        w = (pos - i0)[:, None]
        level = (0.55 + 0.45 * note.velocity / 127.0) ** 2
        sp[a:b] = level * ((1 - w) * source.sp[i0] + w * source.sp[i1])
        lo, hi = source.vowel
        voiced = source.voiced[np.rint(pos).astype(int)] | ((pos >= lo) & (pos < hi))
        frame_ap = (1 - w) * source.ap[i0] + w * source.ap[i1]
        ap[a:b] = np.where(voiced[:, None], frame_ap + (1 - frame_ap) * breath, frame_ap)
        prev = notes[i - 1] if i > 0 and i - 1 in phrase else None
        f0[a:b] = np.where(voiced, _f0_frames(note, prev, b - a, style), 0.0)
    return start_frame * hop, pyworld.synthesize(f0, sp, ap, rate, FRAME_MS)


def sing_espeak(notes: list[SungNote], voice: VoiceProfile, style: VocalStyle, duration_s: float,
                sample_rate: int) -> np.ndarray:
    """Sing ``notes`` and return a mono float32 track of ``duration_s`` seconds, peak at -3 dBFS.

    espeak-ng runs and WORLD's analysis and synthesis release the GIL, so two threads share them."""
    speaker = ESPEAK_VOICES[voice.name]
    utterances = sorted({utterance_for(n) for n in notes})
    track = np.zeros(int(round(duration_s * sample_rate)) + 1)
    with ThreadPoolExecutor(max_workers=2) as pool:
        spoken = dict(zip(utterances, pool.map(lambda u: spoken_syllable(u, speaker), utterances)))
        first = next(iter(spoken.values()))
        rate, bins = first.rate, first.sp.shape[1]
        freqs = np.arange(bins) * rate / (2 * (bins - 1))
        breath = np.clip((voice.breath + style.breathiness) * np.clip((freqs - _BREATH_FROM_HZ) / 2000.0, 0, 1),
                         0.0, 0.9)
        up, down = sample_rate // gcd(sample_rate, rate), rate // gcd(sample_rate, rate)
        phrases = pool.map(lambda p: _sing_phrase(notes, p, spoken, style, breath), _phrases(notes))
        for start_s, y in phrases:
            y = resample_poly(y, up, down) if up != down else y
            offset = int(round(start_s * sample_rate))
            lo, hi = max(offset, 0), min(offset + len(y), len(track))
            if hi > lo:
                track[lo:hi] += y[lo - offset:hi - offset]
    peak = np.max(np.abs(track))
    if peak > 0:
        track *= 10 ** (-3 / 20) / peak
    return track.astype(np.float32)


class EspeakWorldSinger(VocalsProvider):
    """espeak-ng speaks each syllable, WORLD re-pitches and stretches it onto the note. Optional (GPL-3
    espeak-ng, run as a separate program), deterministic."""

    name = "espeak"
    version = "1"
    capabilities = frozenset({"sung-only", "voices:alto,tenor", "deterministic", "license:GPL-3-subprocess"})

    def sing(self, notes, voice, style, duration_s, seed):
        if not espeak_available():
            raise StageError("espeak_missing", f"{ESPEAK} is not installed (Debian package espeak-ng)",
                              retryable=True)
        if voice.name not in ESPEAK_VOICES:
            raise StageError("unknown_voice", f"no espeak-ng voice for profile {voice.name!r}")
        return sing_espeak(notes, voice, style, duration_s, self.sample_rate)
