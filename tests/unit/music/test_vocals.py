"""Vocals stage: the formant singer sings every syllable on its note, per voice and genre style."""

from __future__ import annotations

import numpy as np
import pytest

from composition.models import GenreWeight
from music.audio import read_audio
from music.errors import StageError
from music.metrics_audio import pitch_track, vocal_pitch_error_cents
from music.vocals import FormantSinger, split_syllable, sung_notes, vocal_style
from storage.local import LocalArtifactStore
from tests.unit.music.audio_songs import tiny_context


@pytest.fixture()
def store(tmp_path):
    return LocalArtifactStore(tmp_path / "artifacts")


def _median_f0(audio: np.ndarray, rate: int) -> float:
    _, f0 = pitch_track(audio, rate)
    return float(np.median(f0[f0 > 0]))


@pytest.mark.parametrize("voice", ["alto", "tenor"])
def test_sings_on_the_notes(store, voice):
    ctx = tiny_context(store, "song1", voice=voice)
    section = FormantSinger().run(ctx, store, "song1")
    assert section.voice == voice and section.audio.name == "vocals.wav"
    audio, rate = read_audio(store, section.audio)
    notes = [(n.pitch, n.start_s, n.end_s) for n in sung_notes(ctx)]
    assert len(notes) == 20
    assert vocal_pitch_error_cents(audio, rate, notes) <= 15.0
    # silence where nothing is sung (the intro bar)
    assert np.abs(audio[: int(1.5 * rate)]).max() < 1e-4


def test_vocals_are_deterministic(store):
    ctx = tiny_context(store, "song1")
    assert FormantSinger().run(ctx, store, "song1").audio.sha256 == FormantSinger().run(ctx, store, "song1").audio.sha256


def test_voices_sound_different(store):
    alto = read_audio(store, FormantSinger().run(tiny_context(store, "a", voice="alto"), store, "a").audio)
    tenor = read_audio(store, FormantSinger().run(tiny_context(store, "t", voice="tenor"), store, "t").audio)
    assert 1.8 < _median_f0(*alto) / _median_f0(*tenor) < 2.2  # the test melody sits an octave lower


def test_genre_style_blends():
    pop = vocal_style([GenreWeight(genre="pop", weight=1.0)])
    funk = vocal_style([GenreWeight(genre="funk", weight=1.0)])
    ballad = vocal_style([GenreWeight(genre="ballad", weight=1.0)])
    blend = vocal_style([GenreWeight(genre="pop", weight=0.7), GenreWeight(genre="funk", weight=0.3)])
    assert ballad.vowel_length > pop.vowel_length > funk.vowel_length
    assert min(pop.vowel_length, funk.vowel_length) < blend.vowel_length < max(pop.vowel_length, funk.vowel_length)
    assert blend != pop and blend != funk


def test_genre_changes_the_audio(store):
    pop = FormantSinger().run(tiny_context(store, "p", genres={"pop": 1.0}), store, "p")
    lofi = FormantSinger().run(tiny_context(store, "l", genres={"lofi": 1.0}), store, "l")
    assert pop.audio.sha256 != lofi.audio.sha256


def test_instrumental_has_no_vocals(store):
    with pytest.raises(StageError) as error:
        FormantSinger().run(tiny_context(store, "i", instrumental=True), store, "i")
    assert error.value.code == "not_sung" and not error.value.retryable


def test_split_syllable():
    assert split_syllable(["K", "L", "OW1", "Z"]) == (["K", "L"], "OW", ["Z"])
    assert split_syllable(["AH0"]) == ([], "AH", [])
    assert split_syllable([]) == ([], "AH", [])
