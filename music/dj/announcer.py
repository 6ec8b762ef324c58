"""The DJ's voice: a short spoken line naming the next song, in the text-to-speech the vocals use.

flite (CMU, BSD-style) speaks it with its US male voice at its natural rate, else espeak-ng (GPL-3,
run as a program) where only that is installed; the line is resampled to the set's rate and brought
to a level (-20 LUFS before the set is mastered) that sits over a ducked intro.
"""

from __future__ import annotations

import re

import numpy as np
from scipy.signal import resample_poly

from music.errors import StageError
from music.metrics_audio import integrated_lufs
from music.vocals import espeak, flite

SPEECH_LUFS = -20.0
LINE_SPEAKER = flite.FliteSpeaker("rms", 1.0, 1.1, 71.0, stretch=1.0)
LINE_VOICE = espeak.EspeakVoice("en-us+m3", 45, 160, 65.0)


def line_for(title: str, position: int, count: int) -> str:
    """What the DJ says before song ``position`` (1-based) of ``count``."""
    clean = re.sub(r"[^\w '&,.!?-]+", " ", title).strip() or "the next song"
    return f"And last tonight, {clean}." if position == count else f"Coming up next, {clean}."


def available() -> bool:
    return flite.flite_available() or espeak.espeak_available()


def speak(text: str, sample_rate: int) -> np.ndarray:
    """``text`` spoken, mono float32 at ``sample_rate``, at ``SPEECH_LUFS``."""
    if flite.flite_available():
        samples, rate, _ = flite.speak_line(text, LINE_SPEAKER)
    elif espeak.espeak_available():
        samples, rate = espeak.speak(text, LINE_VOICE)
    else:
        raise StageError("announcer_unavailable", "the announcer needs flite or espeak-ng, and neither is installed",
                         retryable=False)
    audio = resample_poly(np.asarray(samples, dtype=np.float64), sample_rate, rate) if rate != sample_rate else samples
    audio = np.asarray(audio, dtype=np.float32)
    with np.errstate(divide="ignore"):
        level = integrated_lufs(audio[:, None], sample_rate)
    gain = 10 ** ((SPEECH_LUFS - level) / 20) if np.isfinite(level) else 1.0
    return (audio * gain).astype(np.float32)
