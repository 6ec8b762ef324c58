"""Offline compose: the whole engine in one process writes a song folder a user can open."""

from __future__ import annotations

import json

import pytest
import soundfile as sf
from typer.testing import CliRunner

from cadenza_cli.main import app
from composition.models import CompositionRequest, GenreWeight, Mood
from music.config import EngineConfig
from music.offline import compose_offline
from music.registry import default_registry
from music.render import SMALL_SOUNDFONT
from storage.local import LocalArtifactStore

SONG_FILES = {"master.wav", "master.flac", "master.mp3", "arrangement.mid", "vocals.wav", "lyrics.txt",
              "context.json", "spectrogram.png"}


@pytest.fixture(autouse=True)
def small_soundfont(monkeypatch):
    monkeypatch.setenv("CADENZA_SOUNDFONT", str(SMALL_SOUNDFONT))  # the CLI's setting


def _registry():
    return default_registry(EngineConfig(soundfont=SMALL_SOUNDFONT))


def _request(**kwargs):
    base = dict(mood=Mood.from_label("happy"), genres=[GenreWeight(genre="pop", weight=0.7),
                GenreWeight(genre="funk", weight=0.3)], theme="a summer road trip", duration_s=20.0, seed=11)
    return CompositionRequest(**{**base, **kwargs})


def test_sung_song_folder(tmp_path):
    song = compose_offline(_request(), tmp_path / "song", LocalArtifactStore(tmp_path / "store"), _registry())
    assert SONG_FILES <= {p.name for p in (tmp_path / "song").iterdir()}
    document = json.loads((tmp_path / "song" / "context.json").read_text())
    assert document["context"]["master"]["metrics"] == document["metrics"]
    assert set(document["stage_seconds"]) >= {"plan", "vocals", "render", "master"}
    m = song.context.master.metrics
    assert abs(m.integrated_lufs + 14) <= 0.5 and m.true_peak_dbtp <= -1.0 and m.duration_error <= 0.05
    assert m.energy_loudness_correlation >= 0.8 and m.vocal_pitch_error_cents <= 15.0
    assert (tmp_path / "song" / "spectrogram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_same_request_and_seed_same_audio(tmp_path):
    first = compose_offline(_request(genres=[GenreWeight(genre="lofi", weight=1.0)], voice="tenor"), tmp_path / "a", LocalArtifactStore(tmp_path / "sa"), _registry())
    second = compose_offline(_request(genres=[GenreWeight(genre="lofi", weight=1.0)], voice="tenor"), tmp_path / "b", LocalArtifactStore(tmp_path / "sb"), _registry())
    a, _ = sf.read(first.files["master.wav"])
    b, _ = sf.read(second.files["master.wav"])
    assert a.shape == b.shape and abs(a - b).max() < 1e-6
    assert first.context.master.metrics == second.context.master.metrics


def test_cli_instrumental(tmp_path):
    result = CliRunner().invoke(app, ["compose", "--offline", "--mood", "energetic", "--genre", "rock=0.6", "--genre", "house=0.4",
                                      "--duration", "16", "--instrumental", "--seed", "3", "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    names = {p.name for p in (tmp_path / "s").iterdir()}
    assert SONG_FILES - {"vocals.wav", "lyrics.txt"} <= names and "vocals.wav" not in names
    assert "LUFS" in result.output


def test_cli_rejects_bad_input(tmp_path):
    result = CliRunner().invoke(app, ["compose", "--offline", "--genre", "polka", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "polka" in result.output
    assert CliRunner().invoke(app, ["compose", "--mood", "happy"], env={"CADENZA_API_KEY": ""}).exit_code == 2  # online needs the API
