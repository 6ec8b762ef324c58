"""Instant stage providers whose behaviour a test scripts through the request's theme.

They are injected into the real stage workers through the real provider router
(CADENZA_PROVIDERS=tests.integration.fake_providers:registry), so the whole runtime is exercised: only
the music is fake. Two providers per stage, ``local`` and ``backup``, for fallback chains.

The theme holds a script, e.g. ``"script: harmony=fail:2; render@local=fail:always; vocals=hang:6"``:
- ``fail:N``      the first N attempts on that provider fail (retryable)
- ``fail:always`` every attempt on that provider fails (retryable)
- ``fatal``       a permanent failure (not retryable)
- ``hang:S``      sleep S seconds, then succeed
A rule without ``@provider`` applies to every provider of the stage. Attempts are counted per
composition in files (workers run stage work in a process pool), under CADENZA_FAKE_STATE_DIR.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

from composition.artifacts import ArtifactStore
from composition.models import (
    SONG_STAGES,
    ArrangementSection,
    Artifact,
    Chord,
    CompositionContext,
    FormSection,
    HarmonySection,
    LyricLine,
    LyricsSection,
    MasterSection,
    MelodySection,
    Note,
    PlanSection,
    QualityMetrics,
    RenderSection,
    SectionHarmony,
    SectionLyrics,
    StageName,
    Syllable,
    Track,
    VocalsSection,
)
from music import policy
from music.errors import StageError
from music.registry import ProviderRegistry


def _state_dir() -> Path:
    path = Path(os.environ.get("CADENZA_FAKE_STATE_DIR", Path(tempfile.gettempdir()) / "cadenza-fakes"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def script_of(theme: str) -> dict[str, str]:
    if not theme.startswith("script:"):
        return {}
    rules = {}
    for item in theme[len("script:"):].split(";"):
        target, _, action = item.strip().partition("=")
        if target:
            rules[target.strip()] = action.strip()
    return rules


def _count_attempt(namespace: str, stage: str, provider: str) -> int:
    path = _state_dir() / f"{namespace}-{stage}-{provider}.count"
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        count = int(handle.read() or 0) + 1
        handle.seek(0)
        handle.truncate()
        handle.write(str(count))
    return count


class FakeProvider:
    version = "1"
    capabilities = frozenset({"fake", "user-lyrics"})

    def __init__(self, stage: StageName, name: str) -> None:
        self.stage = stage
        self.name = name

    def run(self, ctx: CompositionContext, store: ArtifactStore, namespace: str):
        rules = script_of(ctx.request.theme)
        action = rules.get(f"{self.stage.value}@{self.name}") or rules.get(self.stage.value, "")
        attempt = _count_attempt(namespace, self.stage.value, self.name)
        if action == "fatal":
            raise StageError("scripted_fatal", f"{self.stage.value} fails permanently (scripted)", retryable=False)
        if action == "fail:always" or (action.startswith("fail:") and action != "fail:always"
                                       and attempt <= int(action.split(":")[1])):
            raise StageError("scripted_failure", f"{self.stage.value}@{self.name} attempt {attempt} fails", retryable=True)
        if action.startswith("hang:") and attempt == 1:
            time.sleep(float(action.split(":")[1]))
        if self.stage is StageName.PLAN:  # what the planner was handed, for the feedback loop's test
            (_state_dir() / f"{namespace}-plan-policies.json").write_text(json.dumps(policy.current()))
        return section(self.stage, store, namespace, self.name)

    def compensate(self, artifacts: list[Artifact], store: ArtifactStore) -> list[str]:
        return [a.uri for a in artifacts if store.delete(a.uri)]


def registry(config=None) -> ProviderRegistry:
    reg = ProviderRegistry()
    for stage in SONG_STAGES:
        for name in ("local", "backup"):
            reg.register(FakeProvider(stage, name))
    return reg


def _put(store: ArtifactStore, namespace: str, name: str, provider: str) -> Artifact:
    return store.put(namespace, name, f"{namespace}:{name}:{provider}".encode(), "application/octet-stream")


def section(stage: StageName, store: ArtifactStore, namespace: str, provider: str):
    """A minimal valid section; stages with large outputs really write an artifact."""
    from composition.models import GenreWeight, Mood

    if stage is StageName.PLAN:
        form = [FormSection(name="verse1", kind="verse", bars=4, energy=0.5, vocals=True, phrase_syllables=[2])]
        return PlanSection(key="C", mode="major", tempo_bpm=120, beats_per_bar=4, mood=Mood.from_label("happy"),
                           genres=[GenreWeight(genre="pop", weight=1.0)], form=form, instrumentation=["drums"],
                           voice="alto", seed=int(hashlib.sha256(namespace.encode()).hexdigest()[:6], 16), duration_s=8.0)
    if stage is StageName.HARMONY:
        chord = Chord(symbol="C", root=0, pitches=[60, 64, 67], start_beat=0, beats=4)
        return HarmonySection(sections=[SectionHarmony(section="verse1", chords=[chord])])
    if stage is StageName.LYRICS:
        line = LyricLine(text="sun", syllables=[Syllable(text="sun", word="sun", stress=1)], rhyme="A")
        return LyricsSection(source="generated", sections=[SectionLyrics(section="verse1", lines=[line], rhyme_scheme="A")])
    if stage is StageName.MELODY:
        return MelodySection(notes=[Note(pitch=60, start_beat=0, beats=1, velocity=90, section="verse1")],
                             low=55, high=72, sung=True)
    if stage is StageName.ARRANGEMENT:
        return ArrangementSection(midi=_put(store, namespace, "arrangement.mid", provider),
                                  tracks=[Track(name="drums", program=0, is_drum=True, notes=4)])
    if stage is StageName.VOCALS:
        return VocalsSection(audio=_put(store, namespace, "vocals.wav", provider), voice="alto", sample_rate=44100)
    if stage is StageName.RENDER:
        return RenderSection(stems=[_put(store, namespace, "stem-drums.wav", provider)], sample_rate=44100, soundfont="fake")
    metrics = QualityMetrics(melody_in_key=1.0, syllable_alignment=1.0, stress_on_strong_beats=1.0, rhyme_adherence=1.0,
                             energy_loudness_correlation=1.0, vocal_pitch_error_cents=0.0, integrated_lufs=-14.0,
                             true_peak_dbtp=-1.0, duration_s=8.0, duration_error=0.0)
    return MasterSection(outputs=[_put(store, namespace, "master.wav", provider)], integrated_lufs=-14.0,
                         true_peak_dbtp=-1.0, duration_s=8.0, metrics=metrics)
