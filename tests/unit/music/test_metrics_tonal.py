"""Tempo and key heard in the audio: synthetic signals, then whole songs rendered at a requested bpm and key."""

import io
import tempfile

import numpy as np
import pytest
import soundfile as sf

from music.engine import compose
from music.metrics_tonal import estimate_key, estimate_tempo, mode_family, tempo_error
from music.theory import pitch_class, scale_pcs
from storage.local import LocalArtifactStore
from tests.unit.music.symbolic_songs import request

SR = 22050


def clicks(bpm: float, seconds: float = 20.0) -> np.ndarray:
    out = np.zeros(int(SR * seconds))
    step = 60.0 / bpm
    burst = np.random.default_rng(1).normal(0, 1, 400) * np.exp(-np.arange(400) / 60)
    for k in range(int(seconds / step)):
        at = int(k * step * SR)
        out[at:at + 400] += burst[: len(out) - at]
    return out


def scale_tones(key: str, mode: str, seconds: float = 12.0) -> np.ndarray:
    """The scale's notes in turn, tonic triad between, as sine tones (a melody that says the key)."""
    t = np.arange(int(SR * 0.5)) / SR
    tonic = pitch_class(key)
    notes = [tonic, (tonic + (3 if mode == "minor" else 4)) % 12, (tonic + 7) % 12] * 2 + scale_pcs(key, mode)
    out = [np.sin(2 * np.pi * 440 * 2 ** ((48 + pc - 57) / 12) * t) for pc in notes * int(seconds / 0.5 / len(notes) + 1)]
    return np.concatenate(out)


@pytest.mark.parametrize("bpm", [72, 100, 128, 150])
def test_tempo_of_a_click_track(bpm):
    assert tempo_error(estimate_tempo(clicks(bpm), SR), bpm) <= 0.02


@pytest.mark.parametrize("key, mode", [("A", "minor"), ("Eb", "major"), ("F#", "minor")])
def test_key_of_scale_tones(key, mode):
    found = estimate_key(scale_tones(key, mode), SR)
    assert (found.tonic, found.mode) == (pitch_class(key), mode)


@pytest.mark.parametrize("name, bpm, key, meter", [("pop-happy", 96, "F# minor", None), ("folk-lofi", 126, "Eb major", "3/4"),
                                                    ("ballad-waltz", 72, "D dorian", "3/4")])
def test_a_song_is_heard_at_the_requested_tempo_and_key(name, bpm, key, meter):
    store = LocalArtifactStore(tempfile.mkdtemp(prefix="cadenza-tonal-"))
    ctx = compose(request(name, bpm=bpm, key=key, meter=meter, duration_s=30), store, f"tonal-{name}").context
    master = next(a for a in ctx.master.outputs if a.name == "master.wav")
    audio, sr = sf.read(io.BytesIO(store.get(master.uri)))
    assert tempo_error(estimate_tempo(audio, sr), bpm) <= 0.02
    found = estimate_key(audio, sr)
    tonic, mode = key.split()
    assert (found.tonic, found.mode) == (pitch_class(tonic), mode_family(mode)), found.name
