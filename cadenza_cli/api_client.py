"""The client side of the API (httpx), for the CLI and the end-to-end tests alike.

Submit with an Idempotency-Key (a retried submit never makes a second song), follow the Server-Sent
Events stream (reconnecting with Last-Event-ID), download every artifact to ``<out>/<id>/``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import httpx

DEFAULT_URL = "http://127.0.0.1:8000"
TERMINAL = frozenset({"CompositionCompleted", "CompositionFailed", "CompositionCancelled"})


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


def submit(http: httpx.Client, body: dict, idempotency_key: str | None = None) -> str:
    """POST the request (retrying transport errors and 429s with the same key); return the composition id."""
    return _post_accepted(http, "/api/v2/compositions", body, idempotency_key)["id"]


def _post_accepted(http: httpx.Client, path: str, body: dict, idempotency_key: str | None) -> dict:
    """POST ``body`` until it is accepted (202), retrying transport errors and 429s (after their
    Retry-After) with the same Idempotency-Key, so a retry never makes a second one; the answer's JSON."""
    key = idempotency_key or str(uuid.uuid4())
    response = None
    for attempt in range(5):
        try:
            response = http.post(path, json=body, headers={"Idempotency-Key": key})
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
        return response.json()
    raise ApiError(response)


class SseReader:
    """Parses an event stream's lines into (event type, JSON data), remembering the last event id."""

    def __init__(self) -> None:
        self.last_id: str | None = None

    def read(self, lines: Iterable[str]) -> Iterator[tuple[str, dict]]:
        kind, data = None, None
        for line in lines:
            if line.startswith("id: "):
                self.last_id = line[4:]
            elif line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
            elif not line and kind and data is not None:
                yield kind, data
                kind, data = None, None


def run_path(composition_id: str, revision: int | None = None) -> str:
    """The API path of a composition, or of one of its revisions."""
    base = f"/api/v2/compositions/{composition_id}"
    return base if revision is None else f"{base}/revisions/{revision}"


def events(http: httpx.Client, composition_id: str, *, deadline: float | None = None,
           revision: int | None = None) -> Iterator[tuple[str, dict]]:
    """(event type, data) from the event stream (the composition's, or a revision's) until the terminal
    event, reconnecting when cut. ``deadline`` (time.monotonic) ends the wait with TimeoutError."""
    reader = SseReader()
    while deadline is None or time.monotonic() < deadline:
        headers = {"Last-Event-ID": reader.last_id} if reader.last_id else {}
        read = None if deadline is None else max(0.1, deadline - time.monotonic())
        try:
            with http.stream("GET", f"{run_path(composition_id, revision)}/events", headers=headers,
                             timeout=httpx.Timeout(10, read=read)) as response:
                if response.status_code != 200:
                    response.read()
                    raise ApiError(response)
                for kind, data in reader.read(response.iter_lines()):
                    yield kind, data
                    if kind in TERMINAL:
                        return
        except (httpx.TransportError, httpx.RemoteProtocolError):
            time.sleep(1)
    raise TimeoutError(f"no terminal event for {composition_id} before the deadline")


def revise(http: httpx.Client, composition_id: str, stage: str, changes: dict,
           idempotency_key: str | None = None) -> int:
    """POST a revision (retrying transport errors and 429s with the same key); return its number."""
    return _post_accepted(http, f"/api/v2/compositions/{composition_id}/revisions",
                          {"stage": stage, "changes": changes}, idempotency_key)["number"]


def download(http: httpx.Client, composition_id: str, out_dir: Path, revision: int | None = None) -> list[Path]:
    """Every file of the composition's current revision (or of ``revision``) into ``out_dir/<id>[/r<n>]``."""
    body = http.get(run_path(composition_id, revision))
    if body.status_code != 200:
        raise ApiError(body)
    target = out_dir / composition_id if revision is None else out_dir / composition_id / f"r{revision}"
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
    (target / ("composition.json" if revision is None else "revision.json")).write_text(json.dumps(body.json(), indent=2))
    return paths


def follow(http: httpx.Client, composition_id: str, *, quiet: bool = False, revision: int | None = None,
           on_event: Callable[[str, dict], None] | None = None) -> tuple[str, dict]:
    """Follow to the end with a progress bar (overall, plus each stage's state); return the terminal event."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    marks = {"completed": "✓", "running": "…", "retrying": "↻", "failed": "✗", "skipped": "-",
             "compensating": "↶", "compensated": "↶", "pending": "·"}
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TextColumn("{task.fields[stages]}"), TimeElapsedColumn(), console=console,
                  disable=quiet) as progress:
        label = composition_id[:8] if revision is None else f"{composition_id[:8]} r{revision}"
        task = progress.add_task(label, total=1.0, stages="waiting for the pipeline")
        for kind, data in events(http, composition_id, revision=revision):
            if on_event:
                on_event(kind, data)
            if kind == "CompositionProgressed":
                line = " ".join(f"{s['stage']}{marks.get(s['status'], '?')}" for s in data["stages"])
                progress.update(task, completed=data["progress"], stages=line)
            elif kind in TERMINAL:
                progress.update(task, completed=1.0 if kind == "CompositionCompleted" else data.get("progress", 0),
                                stages=data.get("status", kind))
                return kind, data
    raise RuntimeError("the event stream ended without a terminal event")
