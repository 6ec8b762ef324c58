"""`cadenza set ID ID ... [--auto] [--bars N] [--bpm B] [--announcer]`: a DJ set of finished songs,
followed to its end with a progress bar; its files (set.flac, set.mp3, set.cue, tracklist.json) go to
OUT/set-<id>/ and their paths are printed, as `cadenza compose` does for a song."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import typer

from cadenza_cli import api_client

SETS = "/api/v2/sets"
ENDED = ("completed", "failed", "cancelled")


def submit_set(http: httpx.Client, body: dict) -> str:
    response = http.post(SETS, json=body)
    if response.status_code != 202:
        raise api_client.ApiError(response)
    return response.json()["id"]


def wait_set(http: httpx.Client, set_id: str, *, quiet: bool = False, poll_s: float = 0.5,
             timeout_s: float = 3600.0) -> dict:
    """Poll the set until it ends, with a progress bar of its stages; the final body."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    deadline = time.monotonic() + timeout_s
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TextColumn("{task.fields[stages]}"), TimeElapsedColumn(), console=Console(stderr=True),
                  disable=quiet) as progress:
        task = progress.add_task(f"set {set_id[:8]}", total=1.0, stages="waiting for the pipeline")
        while time.monotonic() < deadline:
            response = http.get(f"{SETS}/{set_id}")
            if response.status_code != 200:
                raise api_client.ApiError(response)
            body = response.json()
            line = " ".join(f"{s['stage'].removeprefix('set_')}:{s['status']}" for s in body["stages"])
            progress.update(task, completed=body["progress"], stages=line or body["status"])
            if body["status"] in ENDED:
                return body
            time.sleep(poll_s)
    raise RuntimeError(f"set {set_id} did not end within {timeout_s:.0f} s")


def download_set(http: httpx.Client, body: dict, out_dir: Path) -> list[Path]:
    target = out_dir / f"set-{body['id']}"
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for artifact in body["artifacts"]:
        path = target / artifact["name"]
        with http.stream("GET", artifact["url"]) as response:
            if response.status_code != 200:
                response.read()
                raise api_client.ApiError(response)
            with open(path, "wb") as handle:
                for chunk in response.iter_bytes():
                    handle.write(chunk)
        paths.append(path)
    (target / "set.json").write_text(json.dumps(body, indent=2))
    return paths


def dj_set(
    compositions: list[str] = typer.Argument(..., help="2 to 20 ids of your finished compositions"),
    auto: bool = typer.Option(False, "--auto", help="reorder for harmonic mixing, tempo steps and an energy arc "
                                                    "(default: play them as given)"),
    bars: int = typer.Option(8, "--bars", min=1, max=32, help="bars each transition lasts"),
    bpm: float | None = typer.Option(None, "--bpm", help="the set's tempo (default: the songs' median)"),
    announcer: bool = typer.Option(False, "--announcer", help="a spoken line naming each next song"),
    out: Path = typer.Option(Path("out"), help="the set's files go to OUT/set-<id>/"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
    url: str = typer.Option(api_client.DEFAULT_URL, envvar="CADENZA_API_URL"),
    api_key: str | None = typer.Option(None, envvar="CADENZA_API_KEY", help="your key (cadenza up prints one)"),
) -> None:
    """Mix finished songs into one DJ set: beat-matched, cross-faded, mastered; prints its files."""
    if not api_key:
        typer.echo("error: an API key is needed: --api-key or CADENZA_API_KEY (cadenza up prints one)", err=True)
        raise typer.Exit(2)
    body = {"compositions": compositions, "order": "auto" if auto else "given", "transition_bars": bars,
            "target_bpm": bpm, "announcer": announcer}
    try:
        with api_client.client(url, api_key) as http:
            set_id = submit_set(http, body)
            typer.echo(f"set {set_id} accepted", err=True)
            done = wait_set(http, set_id, quiet=quiet)
            if done["status"] != "completed":
                typer.echo(f"set {set_id}: {done['status']}: {json.dumps(done.get('error'))}", err=True)
                raise typer.Exit(1)
            paths = download_set(http, done, out)
    except (api_client.ApiError, httpx.HTTPError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    result = done["result"] or {}
    for entry in done["tracklist"]:
        minutes, seconds = divmod(entry["start_s"], 60)
        typer.echo(f"{int(minutes):02d}:{seconds:05.2f}  {entry['title']}", err=True)
    typer.echo(f"{result.get('integrated_lufs', 0):.1f} LUFS, {result.get('true_peak_dbtp', 0):.1f} dBTP, "
               f"beat alignment {result.get('beat_alignment_ms')} ms, key distances {result.get('key_distances')}",
               err=True)
    for path in paths:
        typer.echo(str(path))
