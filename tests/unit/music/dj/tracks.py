"""Synthesized songs for the DJ engine's tests: a kick on every beat (louder on the downbeat), a hi-hat
between beats and the key's tonic triad held underneath, at a known tempo, key and length."""

from __future__ import annotations

import uuid

import numpy as np

from composition.models import Artifact, FormSection
from composition.sets import SetTrack
from music.dj.camelot import pitch_class

RATE = 44100


def rng_click(n: int) -> np.ndarray:
    """A short broadband click: the kick's attack, so the beat is the strongest onset."""
    return np.random.default_rng(7).standard_normal(n) * np.linspace(1.0, 0.0, n)


def click_song(tempo: float, key: str = "C", mode: str = "major", seconds: float = 24.0, rate: int = RATE,
               beats_per_bar: int = 4) -> np.ndarray:
    frames = int(seconds * rate)
    t = np.arange(frames) / rate
    out = np.zeros(frames)
    period = 60.0 / tempo
    kick_len = int(0.12 * rate)
    kt = np.arange(kick_len) / rate
    kick = np.sin(2 * np.pi * (50 + 90 * np.exp(-kt * 30)) * kt) * np.exp(-kt * 25)
    kick[: int(0.004 * rate)] += rng_click(int(0.004 * rate))
    rng = np.random.default_rng(int(tempo * 10))
    hat = rng.standard_normal(int(0.03 * rate)) * np.exp(-np.arange(int(0.03 * rate)) / rate * 150) * 0.04
    for n, beat in enumerate(np.arange(0, seconds, period)):
        at = int(round(beat * rate))
        piece = kick[: frames - at] * (1.0 if n % beats_per_bar == 0 else 0.7)
        out[at:at + len(piece)] += piece
        off = int(round((beat + period / 2) * rate))
        if off < frames:
            out[off:off + len(hat)] += hat[: frames - off]
    root = 48 + pitch_class(key)
    third = 3 if mode in ("minor", "dorian") else 4
    for semis in (0, third, 7):
        out += 0.08 * np.sin(2 * np.pi * 440 * 2 ** ((root + semis - 69) / 12) * t)
    return np.stack([out, out], axis=1).astype(np.float32) * 0.5


def set_track(tempo: float, key: str, mode: str, seconds: float, title: str, energy: float = 0.5,
              beats_per_bar: int = 4) -> SetTrack:
    bars = int(seconds * tempo / 60 / beats_per_bar)
    head = max(1, bars // 4)
    form = [FormSection(name="intro", kind="intro", bars=head, energy=energy * 0.6, vocals=False),
            FormSection(name="chorus1", kind="chorus", bars=bars - 2 * head, energy=energy, vocals=False),
            FormSection(name="outro", kind="outro", bars=head, energy=energy * 0.5, vocals=False)]
    master = Artifact(name="master.wav", uri=f"cas://x/{'0' * 64}/master.wav", sha256="0" * 64, size_bytes=1,
                      media_type="audio/wav")
    return SetTrack(composition_id=uuid.uuid4(), title=title, master=master, tempo_bpm=tempo, key=key, mode=mode,
                    beats_per_bar=beats_per_bar, duration_s=seconds, form=form)
