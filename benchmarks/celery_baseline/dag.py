"""Cadenza's 8-stage DAG as a Celery workflow with instant stages: the seed platform's way.

The baseline that `bench_vs_celery.py` measures Cadenza's orchestration against. Each stage is a task
that takes the accumulated context dict and returns it with its own small section added, as the
fake providers of Cadenza's benchmark do (tests/integration/fake_providers.py); the four stages with
audio or MIDI output write a tiny artifact file, as those fakes do. The joins are Celery's: a group
followed by a task in a chain becomes a chord, whose callback gets the list of the group's contexts.

    plan -> (harmony || lyrics) -> melody -> ((arrangement -> render) || vocals) -> master

Broker and result backend are one Redis (CELERY_BASELINE_REDIS_URL). Settings that differ from
Celery's defaults: ``task_acks_late`` (a message is acknowledged after its task ran, the at-least-once
setting a pipeline of this kind runs with) and ``worker_prefetch_multiplier=1`` (each prefork child
reserves one task at a time: the setting Celery's docs pair with late acks, so a busy child never
sits on tasks an idle one could run). This module runs in the baseline's own venv, never Cadenza's.
"""

from __future__ import annotations

import os
from pathlib import Path

from celery import Celery, chain, group

try:
    REDIS_URL = os.environ["CELERY_BASELINE_REDIS_URL"]
except KeyError:
    raise RuntimeError("CELERY_BASELINE_REDIS_URL is not set (redis://host:port/db of the baseline's Redis)") from None

app = Celery("cadenza_baseline", broker=REDIS_URL, backend=REDIS_URL)
app.conf.update(
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    result_expires=3600,
)


def _merged(ctx: dict | list[dict]) -> dict:
    """One context from a chord callback's list of contexts (each branch added its own sections)."""
    if isinstance(ctx, dict):
        return ctx
    merged: dict = {}
    for part in ctx:
        merged.update(part)
    return merged


def _artifact(ctx: dict, name: str) -> dict:
    """Write a tiny artifact file, as Cadenza's fake providers do, and return its reference."""
    folder = Path(os.environ.get("CELERY_BASELINE_ARTIFACT_DIR", "/tmp/celery-baseline-artifacts")) / ctx["composition_id"]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(f"{ctx['composition_id']}:{name}".encode())
    return {"uri": path.as_uri(), "media_type": "application/octet-stream"}


SECTIONS = {
    "plan": lambda ctx: {"key": "C", "mode": "major", "tempo_bpm": 120, "beats_per_bar": 4, "voice": "alto",
                         "form": [{"name": "verse1", "kind": "verse", "bars": 4, "energy": 0.5,
                                   "phrase_syllables": [2]}], "instrumentation": ["drums"], "duration_s": 8.0},
    "harmony": lambda ctx: {"sections": [{"section": "verse1", "chords": [
        {"symbol": "C", "root": 0, "pitches": [60, 64, 67], "start_beat": 0, "beats": 4}]}]},
    "lyrics": lambda ctx: {"source": "generated", "sections": [{"section": "verse1", "rhyme_scheme": "A", "lines": [
        {"text": "sun", "rhyme": "A", "syllables": [{"text": "sun", "word": "sun", "stress": 1}]}]}]},
    "melody": lambda ctx: {"notes": [{"pitch": 60, "start_beat": 0, "beats": 1, "velocity": 90, "section": "verse1"}],
                           "low": 55, "high": 72, "sung": True},
    "arrangement": lambda ctx: {"midi": _artifact(ctx, "arrangement.mid"),
                                "tracks": [{"name": "drums", "program": 0, "is_drum": True, "notes": 4}]},
    "vocals": lambda ctx: {"audio": _artifact(ctx, "vocals.wav"), "voice": "alto", "sample_rate": 44100},
    "render": lambda ctx: {"stems": [_artifact(ctx, "stem-drums.wav")], "sample_rate": 44100, "soundfont": "fake"},
    "master": lambda ctx: {"outputs": [_artifact(ctx, "master.wav")], "integrated_lufs": -14.0,
                           "true_peak_dbtp": -1.0, "duration_s": 8.0},
}


def _stage_task(name: str):
    def run(ctx: dict | list[dict]) -> dict:
        ctx = _merged(ctx)
        ctx[name] = SECTIONS[name](ctx)
        return ctx

    run.__doc__ = f"The {name} stage: the context with its {name} section added."
    return app.task(name=f"cadenza_baseline.{name}")(run)


TASKS = {name: _stage_task(name) for name in SECTIONS}


def workflow(composition_id: str, request: dict, result_id: str):
    """One composition's canvas; the master task's id is ``result_id``, so a caller can wait for it."""
    t = TASKS
    return chain(
        t["plan"].s({"composition_id": composition_id, "request": request}),
        group(t["harmony"].s(), t["lyrics"].s()),
        t["melody"].s(),
        group(chain(t["arrangement"].s(), t["render"].s()), t["vocals"].s()),
        t["master"].s().set(task_id=result_id),
    )
