"""Master stage: balanced, loudness-normalised, true-peak-limited, encoded; metrics measured on it."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from pedalboard.io import AudioFile

from composition.models import MixOptions
from music.master import PedalboardMaster, finalize, stem_role, true_peak_limit
from music.metrics_audio import integrated_lufs, true_peak_dbtp
from music.render import SMALL_SOUNDFONT, FluidSynthRenderer
from music.vocals import FormantSinger
from storage.local import LocalArtifactStore
from tests.unit.music.audio_songs import tiny_context


def _song(store, namespace, **kwargs):
    ctx = tiny_context(store, namespace, **kwargs)
    if not ctx.request.instrumental:
        ctx = ctx.with_section("vocals", FormantSinger().run(ctx, store, namespace))
    ctx = ctx.with_section("render", FluidSynthRenderer(soundfont=SMALL_SOUNDFONT).run(ctx, store, namespace))
    return ctx.with_section("master", PedalboardMaster().run(ctx, store, namespace))


@pytest.fixture(scope="module")
def sung(tmp_path_factory):
    store = LocalArtifactStore(tmp_path_factory.mktemp("artifacts"))
    return store, _song(store, "sung", genres={"pop": 0.7, "funk": 0.3})


def test_sung_song_meets_every_audio_target(sung):
    _, ctx = sung
    m = ctx.master.metrics
    assert abs(m.integrated_lufs + 14.0) <= 0.5
    assert m.true_peak_dbtp <= -1.0
    assert m.duration_error <= 0.05
    assert m.energy_loudness_correlation >= 0.8
    assert m.vocal_pitch_error_cents is not None and m.vocal_pitch_error_cents <= 15.0
    assert m.melody_in_key >= 0.95 and m.syllable_alignment == 1.0
    assert ctx.master.integrated_lufs == m.integrated_lufs and ctx.master.true_peak_dbtp == m.true_peak_dbtp


def test_outputs_decode_and_measure_as_reported(sung):
    store, ctx = sung
    outputs = {a.name: a for a in ctx.master.outputs}
    assert {"master.wav", "master.flac", "master.mp3", "lyrics.txt", "song.mid"} <= set(outputs)
    wav, rate = sf.read(io.BytesIO(store.get(outputs["master.wav"].uri)))
    flac, _ = sf.read(io.BytesIO(store.get(outputs["master.flac"].uri)))
    assert wav.shape == flac.shape and wav.shape[1] == 2 and np.abs(wav - flac).max() < 1e-4
    assert abs(integrated_lufs(wav, rate) - ctx.master.integrated_lufs) < 0.05
    assert true_peak_dbtp(wav, rate) <= -1.0
    with AudioFile(str(store.path(outputs["master.mp3"].uri))) as mp3:
        assert mp3.samplerate == rate and abs(mp3.frames / rate - len(wav) / rate) < 0.2
    assert "sun shine on me today" in store.get(outputs["lyrics.txt"].uri).decode()


def test_instrumental_master(tmp_path):
    store = LocalArtifactStore(tmp_path)
    ctx = _song(store, "inst", instrumental=True, genres={"house": 1.0})
    m = ctx.master.metrics
    assert m.vocal_pitch_error_cents is None
    assert abs(m.integrated_lufs + 14.0) <= 0.5 and m.true_peak_dbtp <= -1.0
    assert m.energy_loudness_correlation >= 0.8


def test_same_song_same_master(tmp_path):
    first = _song(LocalArtifactStore(tmp_path / "a"), "d")
    second = _song(LocalArtifactStore(tmp_path / "b"), "d")
    assert [a.sha256 for a in first.master.outputs] == [a.sha256 for a in second.master.outputs]


def test_master_in_threads_is_the_master_made_one_step_at_a_time(sung):
    store, ctx = sung
    ctx = ctx.model_copy(update={"request": ctx.request.model_copy(update={"mix": MixOptions(brightness=0.4)})})
    one = PedalboardMaster(threads=1).run(ctx, store, "one")
    three = PedalboardMaster(threads=3).run(ctx, store, "three")
    assert [(a.name, a.sha256) for a in three.outputs] == [(a.name, a.sha256) for a in one.outputs]
    assert three.metrics == one.metrics and three.metrics.vocal_pitch_error_cents is not None


def test_limiter_holds_the_ceiling_on_a_hot_signal():
    rng = np.random.default_rng(0)
    t = np.arange(44100 * 3) / 44100
    hot = np.stack([np.sin(2 * np.pi * 997 * t), np.sin(2 * np.pi * 11025 * t + 0.5)], axis=1) * 2.0
    hot += 0.3 * rng.standard_normal(hot.shape)
    assert true_peak_dbtp(true_peak_limit(hot, 44100, -1.3), 44100) <= -1.0
    out, lufs, peak = finalize(hot * 0.01, 44100)
    assert abs(lufs + 14.0) <= 0.5 and peak <= -1.0


def test_stem_roles():
    assert [stem_role(n) for n in ("stem-drums.wav", "stem-bass.wav", "stem-pad.wav", "stem-chords.wav", "stem-x.wav")] \
        == ["drums", "bass", "pad", "chords", "other"]


def test_intelligibility_is_measured_only_when_asked_and_installed(sung, tmp_path):
    from music.intelligibility import recogniser_available
    from music.vocals.flite import FliteWorldSinger, flite_available

    assert sung[1].master.metrics.vocal_intelligibility is None  # off by default (EngineConfig)
    if not (recogniser_available() and flite_available()):
        pytest.skip("needs the asr extra and flite")
    store = LocalArtifactStore(tmp_path)
    ctx = tiny_context(store, "heard", genres={"funk": 1.0})
    ctx = ctx.with_section("vocals", FliteWorldSinger().run(ctx, store, "heard"))
    ctx = ctx.with_section("render", FluidSynthRenderer(soundfont=SMALL_SOUNDFONT).run(ctx, store, "heard"))
    metrics = PedalboardMaster(measure_intelligibility=True).run(ctx, store, "heard").metrics
    # a plumbing check on an 18-word song (the WER targets are asserted in test_intelligibility.py)
    assert metrics.vocal_intelligibility is not None and 0.6 <= metrics.vocal_intelligibility <= 1.0
