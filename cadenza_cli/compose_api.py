"""`cadenza compose ...`: submit a composition to the API, follow its progress, download the files.

The client side of the API (httpx): submit with an Idempotency-Key (a retried submit never makes a
second song), follow the Server-Sent Events stream (reconnecting with Last-Event-ID), then download
every artifact to ``<out>/<id>/``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import typer

DEFAULT_URL = "http://127.0.0.1:8000"
TERMINAL = {"CompositionCompleted", "CompositionFailed", "CompositionCancelled"}


class ApiError(RuntimeError):
    def __init__(self, response: httpx.Response) -> None:
        try:
            problem = response.json()
            detail = problem.get("detail") or problem.get("title")
        except ValueError:
            detail = response.text[:300]
        super().__init__(f"HTTP {response.status_code}: {detail}")
        self.status_code = response.status_code


def client(url: str, api_key: str, timeout: float = 30.0) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"X-API-Key": api_key}, timeout=httpx.Timeout(timeout, read=None))


def build_request(*, mood: str, genres: list[str], theme: str, duration: float, lyrics: str | None = None,
                  voice: str = "alto", instrumental: bool = False, seed: int | None = None) -> dict:
    """The JSON body; ``mood`` is a label or ``valence,arousal``; genres are ``name[=weight]``."""
    if "," in mood:
        valence, arousal = (float(x) for x in mood.split(",", 1))
        mood_value: str | dict = {"valence": valence, "arousal": arousal}
    else:
        mood_value = mood
    blend = []
    for item in genres:
        name, _, weight = item.partition("=")
        blend.append({"genre": name.strip(), "weight": float(weight) if weight else None})
    unweighted = [g for g in blend if g["weight"] is None]
    if unweighted:
        share = (1.0 - sum(g["weight"] for g in blend if g["weight"] is not None)) / len(unweighted)
        for g in unweighted:
            g["weight"] = share
    body = {"mood": mood_value, "genres": blend, "theme": theme, "duration_s": duration, "voice": voice,
            "instrumental": instrumental}
    if lyrics:
        body["lyrics"] = lyrics
    if seed is not None:
        body["seed"] = seed
    return body


def submit(http: httpx.Client, body: dict, idempotency_key: str | None = None) -> str:
    key = idempotency_key or str(uuid.uuid4())
    for attempt in range(5):
        try:
            response = http.post("/api/v2/compositions", json=body, headers={"Idempotency-Key": key})
        except httpx.TransportError:
            if attempt == 4:
                raise
            time.sleep(1 + attempt)
            continue
        if response.status_code == 429:
            time.sleep(float(response.headers.get("Retry-After", "1")))
            continue
        if response.status_code != 202:
            raise ApiError(response)
        return response.json()["id"]
    raise ApiError(response)


def events(http: httpx.Client, composition_id: str) -> Iterator[tuple[str, dict]]:
    """(event type, data) from the event stream until the terminal event, reconnecting when cut."""
    last_id: str | None = None
    while True:
        headers = {"Last-Event-ID": last_id} if last_id else {}
        try:
            with http.stream("GET", f"/api/v2/compositions/{composition_id}/events", headers=headers) as response:
                if response.status_code != 200:
                    response.read()
                    raise ApiError(response)
                kind, data = None, None
                for line in response.iter_lines():
                    if line.startswith("id: "):
                        last_id = line[4:]
                    elif line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: "):
                        data = json.loads(line[6:])
                    elif not line and kind and data is not None:
                        yield kind, data
                        if kind in TERMINAL:
                            return
                        kind, data = None, None
        except (httpx.TransportError, httpx.RemoteProtocolError):
            time.sleep(1)


def download(http: httpx.Client, composition_id: str, out_dir: Path) -> list[Path]:
    body = http.get(f"/api/v2/compositions/{composition_id}")
    if body.status_code != 200:
        raise ApiError(body)
    target = out_dir / composition_id
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for artifact in body.json()["artifacts"]:
        path = target / artifact["name"]
        with http.stream("GET", artifact["url"]) as response:
            if response.status_code != 200:
                response.read()
                raise ApiError(response)
            with open(path, "wb") as handle:
                for chunk in response.iter_bytes():
                    handle.write(chunk)
        paths.append(path)
    (target / "composition.json").write_text(json.dumps(body.json(), indent=2))
    return paths


def follow(http: httpx.Client, composition_id: str, *, quiet: bool = False,
           on_event: Callable[[str, dict], None] | None = None) -> tuple[str, dict]:
    """Follow to the end with a progress bar (overall, plus the stage now running); return the terminal event."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TextColumn("{task.fields[stages]}"), TimeElapsedColumn(), console=console,
                  disable=quiet) as progress:
        task = progress.add_task(composition_id[:8], total=1.0, stages="waiting for the pipeline")
        for kind, data in events(http, composition_id):
            if on_event:
                on_event(kind, data)
            if kind == "CompositionProgressed":
                marks = {"completed": "✓", "running": "…", "retrying": "↻", "failed": "✗", "skipped": "-",
                         "compensating": "↶", "compensated": "↶", "pending": "·"}
                line = " ".join(f"{s['stage']}{marks.get(s['status'], '?')}" for s in data["stages"])
                progress.update(task, completed=data["progress"], stages=line)
            elif kind in TERMINAL:
                progress.update(task, completed=1.0 if kind == "CompositionCompleted" else data.get("progress", 0),
                                stages=data.get("status", kind))
                return kind, data
    raise RuntimeError("the event stream ended without a terminal event")


def compose(
    mood: str = typer.Option("happy", help="a mood label (happy, calm, sad, ...) or 'valence,arousal'"),
    genre: list[str] = typer.Option(["pop"], "--genre", "-g", help="genre[=weight], repeat to blend; weights sum to 1"),
    theme: str = typer.Option("a summer road trip", help="what the song is about"),
    duration: float = typer.Option(60.0, help="seconds, 15-600"),
    lyrics_file: Path | None = typer.Option(None, exists=True, dir_okay=False, help="sing these lyrics"),
    voice: str = typer.Option("alto", help="alto or tenor"),
    instrumental: bool = typer.Option(False, help="no lyrics, no vocals"),
    seed: int | None = typer.Option(None, help="same seed and request, same song"),
    out: Path = typer.Option(Path("out"), help="files go to OUT/<composition id>/"),
    url: str = typer.Option(DEFAULT_URL, envvar="CADENZA_API_URL", help="the API (cadenza up serves it here)"),
    api_key: str | None = typer.Option(None, envvar="CADENZA_API_KEY", help="your key (cadenza tenants create)"),
    offline: bool = typer.Option(False, "--offline", help="compose in this process, without the stack"),
) -> None:
    """Compose a song through the API: submit, follow progress, download the files."""
    if offline:
        _offline(mood=mood, genre=genre, theme=theme, duration=duration, lyrics_file=lyrics_file, voice=voice,
                 instrumental=instrumental, seed=seed, out=out)
        return
    if not api_key:
        typer.echo("error: an API key is needed: --api-key or CADENZA_API_KEY (cadenza tenants create NAME)", err=True)
        raise typer.Exit(2)
    lyrics = lyrics_file.read_text() if lyrics_file else None
    body = build_request(mood=mood, genres=genre, theme=theme, duration=duration, lyrics=lyrics, voice=voice,
                         instrumental=instrumental, seed=seed)
    try:
        with client(url, api_key) as http:
            composition_id = submit(http, body)
            typer.echo(f"accepted {composition_id}", err=True)
            kind, data = follow(http, composition_id)
            if kind != "CompositionCompleted":
                typer.echo(f"{kind}: {json.dumps(data.get('error') or data.get('reason'))}", err=True)
                raise typer.Exit(1)
            paths = download(http, composition_id, out)
    except (ApiError, httpx.HTTPError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for path in paths:
        typer.echo(str(path))


def _offline(**options) -> None:
    """Delegate to the offline composer (cadenza_cli/compose_offline.py) when it exists."""
    import importlib

    try:
        module = importlib.import_module("cadenza_cli.compose_offline")
    except ModuleNotFoundError:
        typer.echo("error: --offline is not available in this build (cadenza_cli/compose_offline.py is missing); "
                   "run the stack (cadenza up) and compose through the API", err=True)
        raise typer.Exit(2) from None
    runner = getattr(module, "compose", None)
    if runner is None:
        typer.echo("error: cadenza_cli.compose_offline has no compose() to delegate to", err=True)
        raise typer.Exit(2)
    runner(offline=True, **options)
