"""`cadenza compose --offline`: the whole engine in this process, into a song folder a user can open."""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer
from pydantic_settings import SettingsConfigDict

from composition.models import CompositionRequest
from infra.settings import ServiceSettings
from music.config import EngineConfig


class OfflineSettings(ServiceSettings):
    """What the offline engine takes from the environment: the SoundFont (CADENZA_SOUNDFONT)."""

    model_config = SettingsConfigDict(env_prefix="CADENZA_", extra="ignore", populate_by_name=True)

    soundfont: Path | None = None


def compose_here(request: CompositionRequest, out: Path) -> None:
    """Compose ``request`` into ``out`` (master.wav/.flac/.mp3, MIDI, vocals, lyrics, context.json,
    spectrogram.png) and print the stages' times and the song's measured quality."""
    from music.errors import StageError
    from music.offline import compose_offline
    from music.registry import default_registry
    from storage.local import LocalArtifactStore

    settings = OfflineSettings()
    registry = default_registry(EngineConfig(soundfont=settings.soundfont))
    try:
        with tempfile.TemporaryDirectory(prefix="cadenza-offline-") as scratch:
            song = compose_offline(request, out, LocalArtifactStore(scratch), registry)
    except StageError as exc:
        typer.echo(f"composition failed: {exc}", err=True)
        raise typer.Exit(1) from None
    for stage, seconds in song.stage_seconds.items():
        typer.echo(f"  {stage:12s} {song.providers.get(stage, ''):12s} {seconds:6.2f} s")
    metrics = song.context.master.metrics
    typer.echo(f"loudness {metrics.integrated_lufs:.1f} LUFS, true peak {metrics.true_peak_dbtp:.1f} dBTP, "
               f"{metrics.duration_s:.1f} s, energy/loudness rho {metrics.energy_loudness_correlation:.2f}"
               + (f", vocal pitch error {metrics.vocal_pitch_error_cents:.1f} cents"
                  if metrics.vocal_pitch_error_cents is not None else ""))
    for _, path in sorted(song.files.items()):
        typer.echo(f"  {path}")
