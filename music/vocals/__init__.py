"""The vocals stage: sing the lyrics on the melody's pitches and timing.

Two singers: ``espeak`` (espeak-ng speaks each syllable, the WORLD vocoder puts it on the note;
optional, because espeak-ng is GPL-3 and comes from Debian) and ``formant`` (our own formant
singer, numpy/scipy, deterministic). What they share is in ``style`` and ``base``.
"""

from __future__ import annotations

from music.vocals.base import VocalsProvider
from music.vocals.espeak import EspeakWorldSinger, espeak_available
from music.vocals.formant import FormantSinger
from music.vocals.style import (
    VOICE_PROFILES,
    SungNote,
    VocalStyle,
    VoiceProfile,
    split_syllable,
    sung_notes,
    vocal_duration_s,
    vocal_style,
)

__all__ = ["VOICE_PROFILES", "EspeakWorldSinger", "FormantSinger", "SungNote", "VocalStyle", "VoiceProfile",
           "VocalsProvider", "espeak_available", "providers", "split_syllable", "sung_notes", "unavailable", "vocal_duration_s",
           "vocal_style"]


def providers() -> list[VocalsProvider]:
    """Every vocals provider usable on this machine, preferred first.

    The espeak-ng singer, when espeak-ng is installed, comes first: the same pitch accuracy as the
    formant singer and a far higher score on an offline intelligibility proxy (measured by
    benchmarks/bench_vocals.py); the formant singer is its fallback, and the only singer without
    espeak-ng."""
    found: list[VocalsProvider] = [FormantSinger()]
    if espeak_available():
        found.insert(0, EspeakWorldSinger())
    return found


def unavailable() -> dict[str, str]:
    """Singers this machine cannot run, and why."""
    return {} if espeak_available() else {"vocals/espeak": "espeak-ng is not on PATH (Debian package espeak-ng)"}
