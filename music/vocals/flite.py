"""A whole-line singer on flite: flite speaks each lyric line, WORLD sings it on the notes.

flite (CMU, BSD-style licence; Debian package ``flite``) runs as a separate program, like espeak-ng
for the espeak singer, and the provider is registered only when it is found. Speaking the whole
line, not each syllable alone, keeps the coarticulation between sounds that makes words
understood. flite reports every phone's end time (``-psdur``); the phones are aligned to the line's
syllables (``music.vocals.align``), the line is analysed once by WORLD and timbre-shaped for the
voice (``music.vocals.world``), and each syllable's frames are laid on its note - one syllable per
note, as the melody gives them. A line whose alignment leaves a syllable without a spoken phone is
spoken again from our own phonemes (flite's phone input), which aligns one to one.

Each distinct (line, voice) is spoken and analysed once per song and kept in a small cache across
songs; flite and WORLD run in a thread pool. flite's output is deterministic for the same input.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf

from composition.models import LyricLine
from music.errors import StageError
from music.vocals import world
from music.vocals.align import SpokenSyllable, parse_flite_segments, syllable_spans
from music.vocals.base import VocalsProvider
from music.vocals.style import SungNote, VoiceProfile

FLITE = "flite"
_EDGE_S = 0.01  # context kept around a syllable's span (the transition into it)
VOICELESS = frozenset("HH P T K F TH S SH CH".split())
"""Phones sung unvoiced whatever the pitch tracker says: flite voices an /h/ between voiced sounds
(breathy voice), and re-pitched at the note it would turn into a vowel onset ("home" heard "ome")."""
BREATHY_TO_NOISE = 0.1  # such a frame, turned to noise, 10 dB down (else it is heard as a /k/)


@dataclass(frozen=True)
class FliteSpeaker:
    """A flite voice a profile starts from: its name, its own tract scale and source slope (so the
    profile's timbre is applied relative to it), WORLD's f0 floor for it, and a speaking-rate
    factor (flite's ``duration_stretch``: slower speech gives the consonants more time)."""

    voice: str
    formant_scale: float
    tilt: float
    f0_floor: float
    stretch: float = 1.5


# slt: US female (CMU ARCTIC, clustergen); rms: US male. Both 16 kHz, in Debian's flite.
SPEAKERS: dict[str, FliteSpeaker] = {
    "soprano": FliteSpeaker("slt", 1.14, 1.25, 120.0),
    "alto": FliteSpeaker("slt", 1.14, 1.25, 120.0),
    "tenor": FliteSpeaker("rms", 1.0, 1.1, 71.0),
    "baritone": FliteSpeaker("rms", 1.0, 1.1, 71.0),
}


def flite_available() -> bool:
    """Whether the flite program is on PATH (the provider is registered only then)."""
    return shutil.which(FLITE) is not None


def speak_line(utterance: str, speaker: FliteSpeaker, phones: bool = False) -> tuple[np.ndarray, int, str]:
    """flite speaks ``utterance`` (text, or a phone string with ``phones``): samples, rate and its
    ``-psdur`` segment listing."""
    with tempfile.TemporaryDirectory(prefix="cadenza-flite-") as folder:
        out = Path(folder) / "line.wav"
        command = [FLITE, "-voice", speaker.voice, "--setf", f"duration_stretch={speaker.stretch}", "-psdur",
                   "-p" if phones else "-t", utterance, "-o", str(out)]
        try:
            done = subprocess.run(command, capture_output=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise StageError("flite_failed", f"could not run {FLITE}: {exc}", retryable=True) from exc
        if done.returncode != 0 or not out.exists():
            raise StageError("flite_failed", f"{FLITE} exited {done.returncode}: "
                             f"{done.stderr.decode(errors='replace').strip()[:200]}", retryable=True)
        samples, rate = sf.read(str(out), dtype="float64")
    if samples.ndim > 1:
        samples = samples.mean(axis=1)
    if np.abs(samples).max(initial=0.0) < 1e-4:
        raise StageError("flite_failed", f"{FLITE} spoke silence for {utterance[:60]!r}", retryable=True)
    return samples, rate, done.stdout.decode(errors="replace")


def line_text(line: LyricLine) -> str:
    """What flite is asked to say: the line's words (its text, else the syllables' words)."""
    text = " ".join(line.text.split())
    if any(c.isalpha() for c in text):
        return text
    words: list[str] = []
    for s in line.syllables:
        if not words or s.word != words[-1]:
            words.append(s.word)
    return " ".join(words)


def _phone_string(syllables: list[list[str]]) -> str:
    flat = [p.rstrip("012").lower() for phonemes in syllables for p in phonemes]
    return " ".join(["pau", *[("ax" if p == "ah" else p) for p in flat], "pau"])


@dataclass(frozen=True)
class SpokenLine:
    """A line as flite spoke it, analysed and timbre-shaped, with each syllable's frames."""

    syllables: tuple[world.Syllable, ...]
    from_phones: bool  # spoken from our phonemes (the text alignment failed)


def _frames(span: SpokenSyllable, total: int) -> tuple[int, int, int, int]:
    to = lambda s: int(round(s / world.HOP_S))  # noqa: E731
    start = max(to(span.start_s - _EDGE_S), 0)
    return start, to(span.vowel_start_s), to(span.vowel_end_s), min(to(span.end_s + _EDGE_S), total)


@lru_cache(maxsize=48)
def spoken_line(text: str, syllables: tuple[tuple[str, ...], ...], voice: VoiceProfile) -> SpokenLine:
    """``text`` spoken by the voice's flite speaker, analysed once, aligned to ``syllables`` (our
    phonemes per syllable). Cached per (line, voice): choruses repeat, workers sing many songs."""
    speaker = SPEAKERS[voice.base]
    ours = [list(s) if s else ["AH0"] for s in syllables]
    samples, rate, segments = speak_line(text, speaker)
    phones = parse_flite_segments(segments)
    spans = syllable_spans(ours, phones)
    from_phones = spans is None
    if from_phones:
        samples, rate, segments = speak_line(_phone_string(ours), speaker, phones=True)
        phones = parse_flite_segments(segments)
        spans = syllable_spans(ours, phones)
        if spans is None:
            raise StageError("flite_alignment", f"flite's phones do not align to the line {text[:60]!r}")
    analysis = world.analyse(samples, rate, speaker.f0_floor)
    for phone in phones:
        if phone.symbol in VOICELESS:
            frames = slice(int(round(phone.start_s / world.HOP_S)), int(round(phone.end_s / world.HOP_S)))
            breathy = analysis.f0[frames] > 0  # voiced by flite: as noise at its level it would be a burst
            analysis.sp[frames][breathy] *= BREATHY_TO_NOISE
            analysis.f0[frames] = 0.0
    analysis = world.shape_timbre(analysis, voice.formant_scale / speaker.formant_scale,
                                  -6.02 * (voice.tilt - speaker.tilt), voice.envelope)
    total = len(analysis.f0)
    parts = tuple(analysis.syllable(*_frames(span, total)) for span in spans)
    return SpokenLine(syllables=parts, from_phones=from_phones)


def _line_of(note: SungNote) -> tuple[str, tuple[tuple[str, ...], ...]]:
    if note.line is None:
        raise StageError("missing_input", "a sung note carries no lyric line to speak")
    return line_text(note.line), tuple(tuple(s.phonemes) for s in note.line.syllables)


def sing_flite(notes: list[SungNote], voice: VoiceProfile, style, duration_s: float, sample_rate: int) -> np.ndarray:
    """Sing ``notes`` with flite + WORLD: a mono float32 track of ``duration_s`` seconds."""
    lines = sorted({_line_of(n) for n in notes})
    with ThreadPoolExecutor(max_workers=2) as pool:
        spoken = dict(zip(lines, pool.map(lambda line: spoken_line(*line, voice), lines)))
    sources = [spoken[_line_of(n)].syllables[n.syllable_index] for n in notes]
    return world.sing(notes, sources, voice, style, duration_s, sample_rate)


class FliteWorldSinger(VocalsProvider):
    """flite speaks each whole line, WORLD re-pitches and stretches every syllable onto its note.
    BSD-style flite run as a separate program; deterministic."""

    name = "flite"
    version = "1"
    capabilities = frozenset({"sung-only", "deterministic", "license:BSD-subprocess"})

    def sing(self, notes, voice, style, duration_s, seed):
        if not flite_available():
            raise StageError("flite_missing", f"{FLITE} is not installed (Debian package flite)", retryable=True)
        if voice.base not in SPEAKERS:
            raise StageError("unknown_voice", f"no flite speaker for voice profile {voice.name!r}")
        return sing_flite(notes, voice, style, duration_s, self.sample_rate)
