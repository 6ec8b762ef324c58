"""Render stage: every arrangement track becomes a stem, deterministically, with the chosen SoundFont."""

from __future__ import annotations

import numpy as np
import pytest

from music.audio import read_audio
from music.errors import StageError
from music.render import SMALL_SOUNDFONT, FluidSynthRenderer, soundfont_path
from storage.local import LocalArtifactStore
from tests.unit.music.audio_songs import tiny_context


@pytest.fixture()
def store(tmp_path):
    return LocalArtifactStore(tmp_path / "artifacts")


def test_each_track_becomes_a_stem_of_the_song_length(store):
    ctx = tiny_context(store, "song1", instrumental=True)
    section = FluidSynthRenderer(soundfont=SMALL_SOUNDFONT).run(ctx, store, "song1")
    assert [a.name for a in section.stems] == ["stem-drums.wav", "stem-bass.wav", "stem-chords.wav", "stem-pad.wav"]
    assert section.soundfont == "TimGM6mb.sf2" and section.sample_rate == 44100
    lengths = set()
    for artifact in section.stems:
        audio, rate = read_audio(store, artifact)
        assert rate == 44100 and audio.shape[1] == 2
        assert np.abs(audio).max() > 0.01, f"{artifact.name} is silent"
        lengths.add(len(audio))
    assert len(lengths) == 1
    assert 18.0 <= lengths.pop() / 44100 <= 20.0


def test_render_is_deterministic(store):
    ctx = tiny_context(store, "song1", instrumental=True)
    first = FluidSynthRenderer(soundfont=SMALL_SOUNDFONT).run(ctx, store, "song1")
    second = FluidSynthRenderer(soundfont=SMALL_SOUNDFONT).run(ctx, store, "song1")
    assert [a.sha256 for a in first.stems] == [a.sha256 for a in second.stems]


def test_configured_soundfont(tmp_path):
    assert soundfont_path(SMALL_SOUNDFONT) == SMALL_SOUNDFONT
    with pytest.raises(StageError) as error:
        soundfont_path(tmp_path / "missing.sf2")
    assert error.value.code == "soundfont_missing" and "missing.sf2" in error.value.message


def test_compensation_deletes_the_stems(store):
    ctx = tiny_context(store, "song1", instrumental=True)
    renderer = FluidSynthRenderer(soundfont=SMALL_SOUNDFONT)
    section = renderer.run(ctx, store, "song1")
    assert sorted(renderer.compensate(section.stems, store)) == sorted(a.uri for a in section.stems)
    assert renderer.compensate(section.stems, store) == []


def test_render_needs_the_arrangement(store):
    ctx = tiny_context(store, "song1").model_copy(update={"arrangement": None})
    with pytest.raises(StageError) as error:
        FluidSynthRenderer(soundfont=SMALL_SOUNDFONT).run(ctx, store, "song1")
    assert error.value.code == "missing_input"


def test_tracks_rendered_in_parallel_are_the_stems_rendered_one_at_a_time(store):
    ctx = tiny_context(store, "song1", instrumental=True)
    one = FluidSynthRenderer(soundfont=SMALL_SOUNDFONT, threads=1).run(ctx, store, "one")
    three = FluidSynthRenderer(soundfont=SMALL_SOUNDFONT, threads=3).run(ctx, store, "three")
    assert [a.name for a in three.stems] == [a.name for a in one.stems]
    assert [a.sha256 for a in three.stems] == [a.sha256 for a in one.stems]
