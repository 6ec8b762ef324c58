"""Compose a whole song in one process, without Kafka, and write it to a folder a user can open.

The stages run through ``music.engine`` (stages in dependency order) with the artifact store the
caller gives (the CLI uses a throw-away local folder); the song folder then gets what a listener and a developer want:
master.wav/.flac/.mp3, arrangement.mid, vocals.wav (+ backing.wav), lyrics.txt, context.json (the whole composition
context with its quality metrics, the providers used and each stage's wall time) and
spectrogram.png (the master with the sung pitch against the melody's notes).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from composition.artifacts import ArtifactStore
from composition.models import CompositionContext, CompositionRequest


@dataclass
class OfflineSong:
    """What an offline composition produced: the context, where the files are, how long each stage took."""

    context: CompositionContext
    folder: Path
    files: dict[str, Path]
    stage_seconds: dict[str, float] = field(default_factory=dict)
    providers: dict[str, str] = field(default_factory=dict)


def run_stages(request: CompositionRequest, store: ArtifactStore, namespace: str, registry=None
               ) -> tuple[CompositionContext, dict[str, float], dict[str, str]]:
    """Run every stage the request needs through ``music.engine``; returns context, timings, providers.

    A stage the engine had to skip (its provider module failed to import) is an error here: an
    offline song needs every stage."""
    from music.engine import compose
    from music.registry import default_registry

    registry = registry or default_registry()
    result = compose(request, store, namespace, registry)
    if result.skipped:
        why = "; ".join(f"{m}: {e}" for m, e in registry.unavailable.items())
        raise RuntimeError(f"stages without a provider: {', '.join(result.skipped)} ({why or 'none registered'})")
    return result.context, result.timings_s, result.providers


def _artifact(ctx: CompositionContext, name: str):
    return next((a for a in ctx.master.outputs if a.name == name), None) if ctx.master else None


def write_song_folder(ctx: CompositionContext, store: ArtifactStore, folder: Path, stage_seconds: dict[str, float],
                      providers: dict[str, str]) -> dict[str, Path]:
    """Copy the song's files out of the store into ``folder`` and add context.json and spectrogram.png."""
    import soundfile as sf

    from music.spectrogram import spectrogram_png
    from music.vocals.style import sung_notes

    folder.mkdir(parents=True, exist_ok=True)
    wanted = {name: _artifact(ctx, name) for name in ("master.wav", "master.flac", "master.mp3", "lyrics.txt")}
    wanted["arrangement.mid"] = ctx.arrangement.midi if ctx.arrangement else None
    wanted["vocals.wav"] = ctx.vocals.audio if ctx.vocals else None
    wanted["backing.wav"] = ctx.vocals.backing if ctx.vocals else None
    files: dict[str, Path] = {}
    for name, artifact in wanted.items():
        if artifact is not None:
            files[name] = folder / name
            files[name].write_bytes(store.get(artifact.uri))
    document = {
        "context": ctx.model_dump(mode="json"),
        "metrics": ctx.master.metrics.model_dump(mode="json") if ctx.master else None,
        "providers": providers,
        "stage_seconds": {k: round(v, 3) for k, v in stage_seconds.items()},
    }
    files["context.json"] = folder / "context.json"
    files["context.json"].write_text(json.dumps(document, indent=2) + "\n")
    if "master.wav" in files:
        master, rate = sf.read(str(files["master.wav"]), dtype="float32")
        vocal = sf.read(str(files["vocals.wav"]), dtype="float32")[0] if "vocals.wav" in files else None
        sung = ctx.vocals is not None and ctx.melody is not None and ctx.lyrics is not None
        notes = [(n.pitch, n.start_s, n.end_s) for n in sung_notes(ctx)] if sung else [
            (n.pitch, n.start_beat * 60 / ctx.plan.tempo_bpm, (n.start_beat + n.beats) * 60 / ctx.plan.tempo_bpm)
            for n in (ctx.melody.notes if ctx.melody else [])]
        genres = " + ".join(f"{g.genre} {g.weight:g}" for g in ctx.request.genres)
        title = f"{ctx.request.theme!r} - {genres}, {ctx.plan.key} {ctx.plan.mode}, {ctx.plan.tempo_bpm:g} bpm"
        files["spectrogram.png"] = folder / "spectrogram.png"
        files["spectrogram.png"].write_bytes(spectrogram_png(master, rate, notes, vocal, title))
    return files


def compose_offline(request: CompositionRequest, folder: str | Path, store: ArtifactStore, registry=None) -> OfflineSong:
    """Compose ``request`` end to end in this process (artifacts in ``store``) and write the song folder."""
    folder = Path(folder)
    namespace = f"offline-{request.seed if request.seed is not None else 'x'}"
    ctx, seconds, providers = run_stages(request, store, namespace, registry)
    started = time.perf_counter()
    files = write_song_folder(ctx, store, folder, seconds, providers)
    seconds["write"] = time.perf_counter() - started
    return OfflineSong(ctx, folder, files, seconds, providers)
