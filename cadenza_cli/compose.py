"""`cadenza compose ...`: a song through the API (submit, follow, download), or `--offline` in this
process without the stack. Both read their options with the one parser (``request_options``)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import typer

from cadenza_cli import api_client
from cadenza_cli.request_options import api_body, build_request
from composition.models import is_profile_id


def compose(
    mood: str = typer.Option("happy", help="a mood label (happy, calm, sad, ...) or 'valence,arousal'"),
    genre: list[str] = typer.Option(["pop"], "--genre", "-g",
                                    help="GENRE[=WEIGHT], repeat to blend; bare genres share what is left of 1"),
    theme: str = typer.Option("a summer road trip", help="what the song is about"),
    duration: float = typer.Option(60.0, help="seconds, 15-600"),
    lyrics_file: Path | None = typer.Option(None, exists=True, dir_okay=False, help="sing these lyrics"),
    voice: str = typer.Option("alto", help="the singing voice: a stock voice, or your voice profile's id "
                                            "(cadenza voices add)"),
    instrumental: bool = typer.Option(False, help="no lyrics, no vocals"),
    seed: int | None = typer.Option(None, help="same seed and request, same song"),
    out: Path = typer.Option(Path("out"), help="files go to OUT/<composition id>/ (offline: into OUT itself)"),
    url: str = typer.Option(api_client.DEFAULT_URL, envvar="CADENZA_API_URL", help="the API (cadenza up serves it here)"),
    api_key: str | None = typer.Option(None, envvar="CADENZA_API_KEY", help="your key (cadenza up prints one)"),
    offline: bool = typer.Option(False, "--offline", help="compose in this process, without the stack"),
    title: str | None = typer.Option(None, help="the song's title (the chorus is built around it)"),
    hook: str | None = typer.Option(None, help="a line that opens and closes every chorus"),
    bpm: float | None = typer.Option(None, help="tempo, 50-200 beats per minute"),
    key: str | None = typer.Option(None, help="e.g. 'F# minor', 'Bb major', 'D dorian'"),
    meter: str | None = typer.Option(None, help="3/4 or 4/4"),
) -> None:
    """Compose a song: through the API by default (submit, follow progress, download), or --offline."""
    profile_id = voice if is_profile_id(voice) else None  # the API adds the measured profile it names
    request = build_request(mood=mood, genres=genre, theme=theme, duration=duration, lyrics_file=lyrics_file,
                            voice="alto" if profile_id else voice, instrumental=instrumental, seed=seed, title=title, hook=hook, bpm=bpm,
                            key=key, meter=meter)
    if offline and profile_id:
        raise typer.BadParameter("a voice profile sings through the API, not --offline", param_hint="--voice")
    if offline:
        from cadenza_cli.offline import compose_here

        compose_here(request, out)
        return
    if not api_key:
        typer.echo("error: an API key is needed: --api-key or CADENZA_API_KEY (cadenza tenants create NAME)", err=True)
        raise typer.Exit(2)
    try:
        with api_client.client(url, api_key) as http:
            composition_id = api_client.submit(http, {**api_body(request), "voice": profile_id or request.voice})
            typer.echo(f"accepted {composition_id}", err=True)
            kind, data = api_client.follow(http, composition_id)
            if kind != "CompositionCompleted":
                typer.echo(f"{kind}: {json.dumps(data.get('error') or data.get('reason'))}", err=True)
                raise typer.Exit(1)
            paths = api_client.download(http, composition_id, out)
    except (api_client.ApiError, httpx.HTTPError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for path in paths:
        typer.echo(str(path))
