"""`cadenza revise ID --stage lyrics --lyrics-file f` (and the other changes): one stage of a finished
song again, and what depends on it, with the same progress bar as `cadenza compose`; the revision's
files go to OUT/<id>/r<n>/."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import typer

from cadenza_cli import api_client
from cadenza_cli.request_options import parse_genres, parse_mood


def revise(
    composition_id: str = typer.Argument(..., help="the finished composition"),
    stage: str = typer.Option(..., help="the stage to redo: plan, harmony, lyrics, melody, arrangement, vocals, "
                                        "render or master (every later stage runs again too)"),
    lyrics_file: Path | None = typer.Option(None, exists=True, dir_okay=False, help="sing these lyrics instead"),
    voice: str | None = typer.Option(None, help="another voice"),
    seed: int | None = typer.Option(None, help="new choices for the stage"),
    genre: list[str] = typer.Option(None, "--genre", "-g", help="a new blend: GENRE[=WEIGHT], repeatable"),
    theme: str | None = typer.Option(None, help="another theme (plan, lyrics)"),
    mood: str | None = typer.Option(None, help="another mood (plan)"),
    vocal_db: float | None = typer.Option(None, help="master: the vocal's level, dB"),
    reverb: float | None = typer.Option(None, help="master: reverb send 0..1"),
    brightness: float | None = typer.Option(None, help="master: -1 darker .. 1 brighter"),
    lufs: float | None = typer.Option(None, help="master: loudness target"),
    out: Path = typer.Option(Path("out"), help="the revision's files go to OUT/<id>/r<n>/"),
    url: str = typer.Option(api_client.DEFAULT_URL, envvar="CADENZA_API_URL"),
    api_key: str | None = typer.Option(None, envvar="CADENZA_API_KEY", help="your key (cadenza up prints one)"),
) -> None:
    """Revise a finished composition: redo one stage, and what depends on it, with your changes."""
    changes: dict = {}
    if lyrics_file is not None:
        changes["lyrics"] = lyrics_file.read_text()
    if voice is not None:
        changes["voice"] = voice
    if seed is not None:
        changes["seed"] = seed
    if genre:
        changes["genres"] = [{"genre": g, "weight": w} for g, w in parse_genres(genre)]
    if theme is not None:
        changes["theme"] = theme
    if mood is not None:
        parsed = parse_mood(mood)
        changes["mood"] = parsed.label or {"valence": parsed.valence, "arousal": parsed.arousal}
    mix = {k: v for k, v in {"vocal_db": vocal_db, "reverb": reverb, "brightness": brightness, "lufs": lufs}.items()
           if v is not None}
    if mix:
        changes["mix"] = mix
    if not changes:
        raise typer.BadParameter("name at least one change (--lyrics-file, --voice, --seed, --genre, --theme, "
                                 "--mood, --vocal-db, --reverb, --brightness, --lufs)", param_hint="changes")
    if not api_key:
        typer.echo("error: an API key is needed: --api-key or CADENZA_API_KEY (cadenza up prints one)", err=True)
        raise typer.Exit(2)
    try:
        with api_client.client(url, api_key) as http:
            number = api_client.revise(http, composition_id, stage, changes)
            typer.echo(f"revision {number} of {composition_id} accepted", err=True)
            kind, data = api_client.follow(http, composition_id, revision=number)
            if kind != "CompositionCompleted":
                typer.echo(f"revision {number}: {kind}: {json.dumps(data.get('error') or data.get('reason'))}", err=True)
                raise typer.Exit(1)
            paths = api_client.download(http, composition_id, out, revision=number)
    except (api_client.ApiError, httpx.HTTPError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for path in paths:
        typer.echo(str(path))
