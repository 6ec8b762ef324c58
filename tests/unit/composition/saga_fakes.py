"""Test helpers for the saga: minimal valid sections per stage and builders of the saga's inputs."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta, timezone

from composition.events import (
    CancelRequested,
    CompositionRequested,
    Error,
    StageCompensated,
    StageCompleted,
    StageFailed,
    StageRequested,
    StageStarted,
)
from composition.models import (
    ArrangementSection,
    Artifact,
    Chord,
    CompositionContext,
    CompositionRequest,
    FormSection,
    Frozen,
    GenreWeight,
    HarmonySection,
    LyricLine,
    LyricsSection,
    MasterSection,
    MelodySection,
    Mood,
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

T0 = datetime(2025, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
TENANT = "tenant-a"


def request(instrumental: bool = False) -> CompositionRequest:
    return CompositionRequest(
        mood=Mood.from_label("happy"),
        genres=[GenreWeight(genre="pop", weight=1.0)],
        theme="summer",
        duration_s=30.0,
        instrumental=instrumental,
    )


def artifact(name: str, salt: str = "") -> Artifact:
    digest = hashlib.sha256(f"{name}{salt}".encode()).hexdigest()
    return Artifact(name=name, uri=f"artifact://{digest}", sha256=digest, size_bytes=10, media_type="audio/wav")


def section(stage: StageName, salt: str = "") -> Frozen:
    """A minimal valid section for ``stage``; ``salt`` makes its artifacts distinct per attempt."""
    mood = Mood.from_label("happy")
    if stage is StageName.PLAN:
        form = [FormSection(name="verse1", kind="verse", bars=4, energy=0.5, vocals=True, phrase_syllables=[2])]
        return PlanSection(
            key="C", mode="major", tempo_bpm=120, beats_per_bar=4, mood=mood,
            genres=[GenreWeight(genre="pop", weight=1.0)], form=form, instrumentation=["drums"],
            voice="alto", seed=1, duration_s=8.0,
        )
    if stage is StageName.HARMONY:
        chord = Chord(symbol="C", root=0, pitches=[60, 64, 67], start_beat=0, beats=4)
        return HarmonySection(sections=[SectionHarmony(section="verse1", chords=[chord])])
    if stage is StageName.LYRICS:
        line = LyricLine(text="sun", syllables=[Syllable(text="sun", word="sun", stress=1)], rhyme="A")
        return LyricsSection(source="generated", sections=[SectionLyrics(section="verse1", lines=[line], rhyme_scheme="A")])
    if stage is StageName.MELODY:
        note = Note(pitch=60, start_beat=0, beats=1, velocity=90, section="verse1")
        return MelodySection(notes=[note], low=55, high=72, sung=True)
    if stage is StageName.ARRANGEMENT:
        return ArrangementSection(
            midi=artifact("arrangement.mid", salt), tracks=[Track(name="drums", program=0, is_drum=True, notes=4)]
        )
    if stage is StageName.VOCALS:
        return VocalsSection(audio=artifact("vocals.wav", salt), voice="alto", sample_rate=44100)
    if stage is StageName.RENDER:
        return RenderSection(stems=[artifact("drums.wav", salt)], sample_rate=44100, soundfont="test.sf2")
    metrics = QualityMetrics(
        melody_in_key=1.0, syllable_alignment=None, stress_on_strong_beats=None, rhyme_adherence=None,
        energy_loudness_correlation=0.5, vocal_pitch_error_cents=None, integrated_lufs=-14.0,
        true_peak_dbtp=-1.0, duration_s=8.0, duration_error=0.0,
    )
    return MasterSection(
        outputs=[artifact("master.wav", salt)], integrated_lufs=-14.0, true_peak_dbtp=-1.0, duration_s=8.0,
        metrics=metrics,
    )


class Inputs:
    """Builds the saga's inputs for one composition."""

    def __init__(self, composition_id: uuid.UUID | None = None, instrumental: bool = False) -> None:
        self.composition_id = composition_id or uuid.uuid4()
        self.request = request(instrumental)

    def _env(self) -> dict:
        return {"composition_id": self.composition_id, "tenant_id": TENANT, "occurred_at": T0}

    def requested(self) -> CompositionRequested:
        return CompositionRequested(request=self.request, **self._env())

    def cancel(self, reason: str = "changed my mind") -> CancelRequested:
        return CancelRequested(reason=reason, **self._env())

    def completed(
        self, stage: StageName, attempt: int = 1, provider: str = "local", context: CompositionContext | None = None
    ) -> StageCompleted:
        """A result whose context holds the stage's section (and, like a real worker's, what it was given)."""
        base = context or CompositionContext(request=self.request)
        return StageCompleted(
            stage=stage,
            attempt=attempt,
            provider=provider,
            context=base.with_section(stage, section(stage, salt=str(attempt))),
            started_at=T0,
            finished_at=T0 + timedelta(milliseconds=250),
            **self._env(),
        )

    def started(self, command: StageRequested, at: datetime = T0) -> StageStarted:
        """What a worker sends when it starts ``command``."""
        return StageStarted(stage=command.stage, attempt=command.attempt, provider=command.provider_hint or "local",
                            started_at=at, revision=command.revision, **self._env())

    def completing(self, command: StageRequested) -> StageCompleted:
        """The result a worker would send for ``command``."""
        return self.completed(command.stage, command.attempt, command.provider_hint or "local", command.context)

    def failed(
        self, stage: StageName, attempt: int = 1, retryable: bool = True, code: str = "provider_unavailable"
    ) -> StageFailed:
        error = Error(code=code, message=f"{stage.value} failed", retryable=retryable)
        return StageFailed(stage=stage, attempt=attempt, provider="local", error=error, **self._env())

    def compensated(self, stage: StageName) -> StageCompensated:
        return StageCompensated(stage=stage, **self._env())


def saga_policy(providers: dict[StageName, tuple[str, ...]] | None = None, **changes):
    """A policy whose catalog has the given providers per stage (else one ``local`` provider for each)."""
    from composition.policy import SagaPolicy
    from composition.providers import ProviderInfo

    chains = {stage: (providers or {}).get(stage, ("local",)) for stage in StageName}
    takes = {StageName.LYRICS: frozenset({"user-lyrics"})}  # the built-in lyricist sings a user's words too
    catalog = {stage: tuple(ProviderInfo(stage=stage, name=name, capabilities=takes.get(stage, frozenset()))
                            for name in names) for stage, names in chains.items()}
    return SagaPolicy(catalog=catalog, **changes)


class Driver:
    """Feeds inputs to the saga, keeping its state, the clock and everything it emitted."""

    def __init__(self, inputs: Inputs | None = None, policy=None, auto_start: bool = True) -> None:
        self.inputs = inputs or Inputs()
        self.policy = policy or saga_policy()
        self.state = None
        self.now = T0
        self.emitted: list = []
        self.auto_start = auto_start
        """True: a worker starts every dispatched attempt at once (its StageStarted is fed back)."""

    def send(self, message, at: datetime | None = None) -> list:
        from composition.saga import transition

        if at is not None:
            self.now = at
        self.state, outputs = transition(self.state, message, self.now, self.policy)
        self.emitted.extend(outputs)
        if self.auto_start:
            for output in outputs:
                if isinstance(output, StageRequested):
                    self.state, more = transition(self.state, self.inputs.started(output, self.now), self.now,
                                                  self.policy)
                    assert more == [], more
        return outputs

    def tick(self, at: datetime) -> list:
        from composition.saga_state import Tick

        return self.send(Tick(composition_id=self.inputs.composition_id), at=at)

    def start(self) -> list:
        return self.send(self.inputs.requested())

    def complete(self, *stages: StageName) -> list:
        """Complete the current attempt of each stage, with the context the saga sent it."""
        outputs: list = []
        for stage in stages:
            outputs += self.send(self.inputs.completing(self.last_request(stage)))
        return outputs

    def run_until(self, *stages: StageName) -> None:
        """Complete stages in order (each must be running)."""
        self.start()
        self.complete(*stages)

    def last_request(self, stage: StageName) -> StageRequested:
        return [o for o in self.emitted if isinstance(o, StageRequested) and o.stage is stage][-1]

    def of_type(self, cls: type, outputs: list | None = None) -> list:
        return [o for o in (self.emitted if outputs is None else outputs) if isinstance(o, cls)]
