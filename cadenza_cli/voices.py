"""`cadenza voices add FILE --name N --consent | list | delete ID`: your own voice as a singer.

``add`` uploads a recording of your singing or speech (WAV, FLAC or MP3, 5-120 s of voice), waits
for the analysis and prints the profile's id: use it as ``cadenza compose --voice ID`` (or
``cadenza revise ID --stage vocals --voice ID``); the preview goes to OUT/voices/<id>/preview.wav.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import typer

from cadenza_cli import api_client

app = typer.Typer(no_args_is_help=True, help="Voice profiles from your own recordings.")
URL = typer.Option(api_client.DEFAULT_URL, envvar="CADENZA_API_URL")
KEY = typer.Option(None, envvar="CADENZA_API_KEY", help="your key (cadenza up prints one)")
BASE = "/api/v2/voices"


def _client(url: str, api_key: str | None) -> httpx.Client:
    if not api_key:
        typer.echo("error: an API key is needed: --api-key or CADENZA_API_KEY (cadenza up prints one)", err=True)
        raise typer.Exit(2)
    return api_client.client(url, api_key)


def _checked(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 400:
        problem = response.json() if "json" in response.headers.get("content-type", "") else {}
        fields = "; ".join(f"{e.get('field') or '.'.join(map(str, e.get('loc', [])))}: {e.get('message') or e.get('msg')}"
                           for e in problem.get("errors", []))
        typer.echo(f"error: {api_client.ApiError(response)}{' (' + fields + ')' if fields else ''}", err=True)
        raise typer.Exit(1)
    return response


@app.command()
def add(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="your recording: WAV, FLAC or MP3"),
        name: str = typer.Option(..., help="what to call the voice"),
        consent: bool = typer.Option(False, "--consent", help="the voice is yours or you have the right to use it"),
        wait: bool = typer.Option(True, help="wait for the analysis and download the preview"),
        out: Path = typer.Option(Path("out"), help="the preview goes to OUT/voices/<id>/preview.wav"),
        url: str = URL, api_key: str | None = KEY) -> None:
    """Upload a recording of your own voice for a voice profile; prints its id."""
    if not consent:
        typer.echo("error: --consent is required: the voice is yours or you have the right to use it", err=True)
        raise typer.Exit(2)
    with _client(url, api_key) as http:
        with file.open("rb") as audio:
            accepted = _checked(http.post(BASE, files={"audio": (file.name, audio)},
                                          data={"name": name, "consent": "true"})).json()
        voice_id = accepted["id"]
        typer.echo(f"voice {voice_id} accepted", err=True)
        if not wait:
            typer.echo(voice_id)
            return
        while (body := _checked(http.get(f"{BASE}/{voice_id}")).json())["status"] not in ("ready", "failed", "cancelled"):
            time.sleep(1.0)
        if body["status"] != "ready":
            error = body.get("error") or {}
            typer.echo(f"error: the voice {body['status']}: {error.get('code')}: {error.get('message')}", err=True)
            raise typer.Exit(1)
        profile = body["profile"]
        typer.echo(f"ready: median {profile['f0_median_hz']:.0f} Hz, range MIDI {profile['range_low']}-"
                   f"{profile['range_high']}, formants {', '.join(f'{f:.0f}' for f in profile['formants_hz'])} Hz, "
                   f"vibrato {profile['vibrato_rate_hz']:.1f} Hz / {profile['vibrato_depth_cents']:.0f} c", err=True)
        if body["links"].get("preview"):
            target = out / "voices" / voice_id / "preview.wav"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(_checked(http.get(body["links"]["preview"])).content)
            typer.echo(f"preview: {target}", err=True)
        typer.echo(voice_id)


@app.command("list")
def list_voices(url: str = URL, api_key: str | None = KEY) -> None:
    """Your voice profiles: id, status, name."""
    with _client(url, api_key) as http:
        for voice in _checked(http.get(BASE)).json()["items"]:
            typer.echo(f"{voice['id']}  {voice['status']:<10} {voice['name']}")


@app.command()
def delete(voice_id: str = typer.Argument(..., help="the voice profile's id"), url: str = URL,
           api_key: str | None = KEY) -> None:
    """Delete a voice profile: its recording, profile and preview (songs sung with it keep their audio)."""
    with _client(url, api_key) as http:
        _checked(http.delete(f"{BASE}/{voice_id}"))
    typer.echo(f"voice {voice_id} deleted", err=True)
