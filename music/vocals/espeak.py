"""An espeak-ng singer: espeak-ng speaks each sung syllable, the WORLD vocoder sings it.

Optional, because espeak-ng is GPL-3: it runs only as a separate program (``espeak-ng`` on PATH,
Debian package ``espeak-ng``), never linked or imported, and the provider is registered only when
that program is found; without it the engine sings with the own-code formant singer.

Each distinct syllable (its ARPAbet phonemes converted to espeak-ng's phoneme mnemonics) is spoken
alone, once per voice, and analysed by WORLD; its vowel is the voiced run around the loudest frame.
The shared engine (``music.vocals.world``) lays it on the note. Spoken alone, a syllable has no
coarticulation with its neighbours, which is why the whole-line flite singer is understood better
(benchmarks/bench_vocals.py). espeak-ng's output is deterministic for the same input.
"""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from music.errors import StageError
from music.vocals import world
from music.vocals.base import VocalsProvider
from music.vocals.style import SungNote, VocalStyle, VoiceProfile, split_syllable
from music.vocals.world import sung_end  # noqa: F401  (re-exported: the tests and benchmark use it)

ESPEAK = "espeak-ng"


@dataclass(frozen=True)
class EspeakVoice:
    """The espeak-ng voice (language + variant) a profile speaks with, its base pitch and speed."""

    voice: str  # -v, e.g. "en-us+f3" (variants live in espeak-ng-data/voices/!v)
    pitch: int  # -p, 0..99
    speed: int  # -s, words per minute (sets the consonants' length; vowels are stretched anyway)
    f0_floor: float  # below the voice's lowest spoken f0; sets WORLD's FFT size (synthesis cost)
    formant_scale: float = 1.0  # the speaker's own tract scale: the profile's timbre is relative to it
    tilt: float = 1.1


ESPEAK_VOICES: dict[str, EspeakVoice] = {
    "soprano": EspeakVoice("en-us+f4", 72, 150, 130.0, 1.14, 1.25),
    "alto": EspeakVoice("en-us+f4", 65, 150, 130.0, 1.14, 1.25),  # speaks at 150-270 Hz: 512-point FFTs
    "tenor": EspeakVoice("en-us+m3", 45, 150, 65.0),  # speaks at 67-160 Hz: 1024-point FFTs
    "baritone": EspeakVoice("en-us+m3", 38, 150, 60.0),
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


def analyse_syllable(samples: np.ndarray, rate: int, f0_floor: float) -> world.Analysis:
    """WORLD analysis of a spoken syllable trimmed of the silence around it."""
    loud = np.flatnonzero(np.abs(samples) > 10 ** (-50 / 20) * max(np.abs(samples).max(), 1e-9))
    if loud.size == 0 or np.abs(samples).max() < 1e-4:
        raise StageError("espeak_failed", "espeak-ng spoke silence", retryable=True)
    margin = int(0.01 * rate)
    return world.analyse(samples[max(loud[0] - margin, 0):loud[-1] + margin], rate, f0_floor)


def vowel_span(analysis: world.Analysis) -> tuple[int, int]:
    """The vowel of a syllable spoken alone: the voiced run around the loudest voiced frame that
    stays within 9 dB of it (the middle third when nothing is voiced)."""
    energy = analysis.sp.sum(axis=1)
    voiced = analysis.f0 > 0
    if not voiced.any():
        n = len(voiced)
        return n // 3, max(n // 3 + 1, 2 * n // 3)
    peak = int(np.flatnonzero(voiced)[np.argmax(energy[voiced])])
    strong = voiced & (energy >= energy[peak] * 10 ** (-0.9))
    lo, hi = peak, peak + 1
    while lo > 0 and strong[lo - 1]:
        lo -= 1
    while hi < len(strong) and strong[hi]:
        hi += 1
    return lo, hi


@lru_cache(maxsize=256)
def spoken_syllable(utterance: str, voice: VoiceProfile) -> world.Syllable:
    """``utterance`` spoken by the voice's espeak-ng speaker, analysed and timbre-shaped; cached
    (about 0.3 MB each), since songs repeat their syllables and a worker sings many songs."""
    speaker = ESPEAK_VOICES[voice.base]
    analysis = analyse_syllable(*speak(utterance, speaker), f0_floor=speaker.f0_floor)
    analysis = world.shape_timbre(analysis, voice.formant_scale / speaker.formant_scale,
                                  -6.02 * (voice.tilt - speaker.tilt), voice.envelope)
    lo, hi = vowel_span(analysis)
    return analysis.syllable(0, lo, hi, len(analysis.f0))


def sing_espeak(notes: list[SungNote], voice: VoiceProfile, style: VocalStyle, duration_s: float,
                sample_rate: int) -> np.ndarray:
    """Sing ``notes`` and return a mono float32 track of ``duration_s`` seconds, peak at -3 dBFS.
    espeak-ng runs and WORLD's analysis release the GIL, so two threads share them."""
    utterances = sorted({utterance_for(n) for n in notes})
    with ThreadPoolExecutor(max_workers=2) as pool:
        spoken = dict(zip(utterances, pool.map(lambda u: spoken_syllable(u, voice), utterances)))
    return world.sing(notes, [spoken[utterance_for(n)] for n in notes], voice, style, duration_s, sample_rate)


class EspeakWorldSinger(VocalsProvider):
    """espeak-ng speaks each syllable, WORLD re-pitches and stretches it onto the note. Optional (GPL-3
    espeak-ng, run as a separate program), deterministic."""

    name = "espeak"
    version = "1"
    capabilities = frozenset({"sung-only", "deterministic", "license:GPL-3-subprocess"})

    def sing(self, notes, voice, style, duration_s, seed):
        if not espeak_available():
            raise StageError("espeak_missing", f"{ESPEAK} is not installed (Debian package espeak-ng)",
                              retryable=True)
        if voice.base not in ESPEAK_VOICES:
            raise StageError("unknown_voice", f"no espeak-ng voice for profile {voice.name!r}")
        return sing_espeak(notes, voice, style, duration_s, self.sample_rate)
