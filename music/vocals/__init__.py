"""The vocals stage: sing the lyrics on the melody's pitches and timing.

Three singers, preferred in this order where installed: ``flite`` (flite speaks each whole lyric
line, the WORLD vocoder sings each syllable on its note; BSD-style flite from Debian, the default),
``espeak`` (espeak-ng speaks each syllable alone, WORLD sings it; optional, because espeak-ng is
GPL-3) and ``formant`` (our own formant singer, numpy/scipy, always there). The WORLD engine both
speech-based singers share is ``world``; the phone-to-syllable alignment ``align``; voice profiles,
style and sung notes ``style``; the provider base ``base``.
"""

from __future__ import annotations

from music.vocals.base import VocalsProvider
from music.vocals.espeak import EspeakWorldSinger, espeak_available
from music.vocals.flite import FliteWorldSinger, flite_available
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

__all__ = ["VOICE_PROFILES", "EspeakWorldSinger", "FliteWorldSinger", "FormantSinger", "SungNote", "VocalStyle",
           "VoiceProfile", "VocalsProvider", "espeak_available", "flite_available", "providers", "split_syllable",
           "sung_notes", "unavailable", "vocal_duration_s", "vocal_style"]


def providers() -> list[VocalsProvider]:
    """Every vocals provider usable on this machine, preferred first.

    flite (whole lines, BSD-style) first: the lowest sung word error rate under an offline
    recogniser (benchmarks/bench_vocals.py); espeak-ng (GPL-3, per syllable) next where installed;
    the formant singer last, and the only singer with neither program."""
    found: list[VocalsProvider] = []
    if flite_available():
        found.append(FliteWorldSinger())
    if espeak_available():
        found.append(EspeakWorldSinger())
    return [*found, FormantSinger()]


def unavailable() -> dict[str, str]:
    """Singers this machine cannot run, and why."""
    missing = {}
    if not flite_available():
        missing["vocals/flite"] = "flite is not on PATH (Debian package flite)"
    if not espeak_available():
        missing["vocals/espeak"] = "espeak-ng is not on PATH (Debian package espeak-ng)"
    return missing
