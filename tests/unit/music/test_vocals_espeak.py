"""Vocals stage, espeak-ng singer: espeak-ng speaks the syllables, WORLD sings them on the notes.

The singing tests need the espeak-ng program and are skipped without it; the registration tests
simulate its absence and always run.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from composition.models import StageName
from music.audio import read_audio
from music.errors import StageError
from music.metrics_audio import pitch_track, vocal_pitch_error_cents
from music.registry import default_registry
from music.vocals import providers, sung_notes, vocal_duration_s, vocal_style
from music.vocals.espeak import (
    EspeakWorldSinger,
    espeak_available,
    espeak_phonemes,
    spoken_syllable,
    sung_end,
)
from music.vocals.world import MAX_LEAD_IN_S
from storage.local import LocalArtifactStore
from tests.unit.music.audio_songs import tiny_context

needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")


@pytest.fixture()
def store(tmp_path):
    return LocalArtifactStore(tmp_path / "artifacts")


def _sing(store, namespace, **song):
    ctx = tiny_context(store, namespace, **song)
    section = EspeakWorldSinger().run(ctx, store, namespace)
    audio, rate = read_audio(store, section.audio)
    return ctx, section, audio[:, 0], rate


@needs_espeak
@pytest.mark.parametrize("voice", ["alto", "tenor"])
def test_sings_on_the_notes(store, voice):
    ctx, section, audio, rate = _sing(store, "song1", voice=voice)
    assert section.voice == voice and section.audio.name == "vocals.wav" and section.sample_rate == rate
    notes = [(n.pitch, n.start_s, n.end_s) for n in sung_notes(ctx)]
    assert vocal_pitch_error_cents(audio, rate, notes) <= 15.0


@needs_espeak
def test_duration_follows_the_melody(store):
    ctx, _, audio, rate = _sing(store, "song1")
    assert len(audio) == int(round(vocal_duration_s(ctx) * rate)) + 1
    notes = sung_notes(ctx)
    style = vocal_style(ctx.plan.genres)
    sounding = np.flatnonzero(np.abs(audio) > 1e-3) / rate
    # the first syllable's onset consonant ("s") comes just before its note, its vowel on the note
    assert notes[0].start_s - MAX_LEAD_IN_S - 0.01 <= sounding[0] < notes[0].start_s
    assert abs(sounding[-1] - sung_end(notes, len(notes) - 1, style)) < 0.05  # the last ends with its note
    for note in notes:  # every note sounds through its middle
        middle = audio[int((note.start_s + 0.4 * (note.end_s - note.start_s)) * rate):
                       int((note.start_s + 0.6 * (note.end_s - note.start_s)) * rate)]
        assert np.abs(middle).max() > 0.01


@needs_espeak
def test_vocals_are_deterministic(store):
    first = _sing(store, "a")[1].audio.sha256
    spoken_syllable.cache_clear()  # speak every syllable again: espeak-ng itself must be deterministic
    assert _sing(store, "b")[1].audio.sha256 == first


@needs_espeak
def test_voices_differ(store):
    alto, tenor = _sing(store, "a", voice="alto"), _sing(store, "t", voice="tenor")
    f0 = [np.median(f[f > 0]) for f in (pitch_track(alto[2], alto[3])[1], pitch_track(tenor[2], tenor[3])[1])]
    assert 1.8 < f0[0] / f0[1] < 2.2  # the test melody sits an octave lower for the tenor
    assert alto[1].audio.sha256 != tenor[1].audio.sha256


@needs_espeak
def test_genre_changes_the_audio(store):
    assert _sing(store, "p", genres={"pop": 1.0})[1].audio.sha256 != _sing(store, "l", genres={"lofi": 1.0})[1].audio.sha256


def test_arpabet_to_espeak():
    assert espeak_phonemes(["K", "L", "OW1", "Z"]) == "kl'oUz"
    assert espeak_phonemes(["DH", "AH0"]) == "D'V"
    assert espeak_phonemes([]) == "'V"


def test_registered_first_when_espeak_is_installed(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: f"/usr/bin/{name}")
    assert [p.name for p in providers()] == ["flite", "espeak", "formant"]


def test_not_registered_without_espeak(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)
    assert [p.name for p in providers()] == ["formant"]
    assert [p.name for p in default_registry().providers_for(StageName.VOCALS)] == ["formant"]
    assert set(default_registry().unavailable) >= {"vocals/flite", "vocals/espeak"}


def test_missing_espeak_at_run_time_lets_the_router_fall_back(store, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)
    with pytest.raises(StageError) as error:
        EspeakWorldSinger().run(tiny_context(store, "m"), store, "m")
    assert error.value.code == "espeak_missing" and error.value.retryable


def test_bad_input_is_a_permanent_stage_error(store):
    with pytest.raises(StageError) as error:
        EspeakWorldSinger().run(tiny_context(store, "i", instrumental=True), store, "i")
    assert error.value.code == "not_sung" and not error.value.retryable
    ctx = tiny_context(store, "n")
    with pytest.raises(StageError) as error:
        EspeakWorldSinger().run(ctx.model_copy(update={"melody": None}), store, "n")
    assert error.value.code == "missing_input" and not error.value.retryable
    wrong = ctx.melody.model_copy(update={"notes": [n.model_copy(update={"syllable": 9}) for n in ctx.melody.notes]})
    with pytest.raises(StageError) as error:
        EspeakWorldSinger().run(ctx.model_copy(update={"melody": wrong}), store, "n")
    assert error.value.code == "lyrics_mismatch" and not error.value.retryable
