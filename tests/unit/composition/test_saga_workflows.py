"""The one saga runs the voice and set workflows as it runs a song: their own stages in their own
order, their own context carried from stage to stage, the same end events (naming the workflow)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from composition.events import (
    CompositionCompleted,
    CompositionFailed,
    CompositionProgressed,
    Error,
    SetRequested,
    StageCompleted,
    StageFailed,
    StageRequested,
    VoiceRequested,
    of_a_song,
    workflow_of,
)
from composition.models import StageName as S
from composition.models import VoiceProfile
from composition.saga import transition
from composition.sets import (
    SetAnalysisSection,
    SetContext,
    SetMasterSection,
    SetOrderSection,
    SetRequest,
    SetTrack,
    SetTransitionsSection,
    TrackAnalysis,
    TracklistEntry,
    Transition,
)
from composition.voices import (
    VoiceAnalysisSection,
    VoiceContext,
    VoicePreviewSection,
    VoiceRequest,
)
from tests.unit.composition.saga_fakes import T0, TENANT, artifact, saga_policy

POLICY = saga_policy()


def voice_request() -> VoiceRequest:
    return VoiceRequest(name="me", recording=artifact("recording.wav"), consent=True)


def set_request() -> SetRequest:
    tracks = [SetTrack(composition_id=uuid.uuid4(), title=f"song {i}", master=artifact(f"master{i}.wav"),
                       tempo_bpm=120 + i, key="C", mode="major", beats_per_bar=4, duration_s=60) for i in range(2)]
    return SetRequest(tracks=tracks)


def voice_section(stage: S):
    if stage is S.VOICE_ANALYSE:
        profile = VoiceProfile(f0_median_hz=200, f0_low_hz=150, f0_high_hz=300, range_low=52, range_high=67)
        return VoiceAnalysisSection(profile=profile, duration_s=12.0, voiced_share=0.7)
    return VoicePreviewSection(audio=artifact("preview.wav"), duration_s=4.0)


def set_section(stage: S, request: SetRequest):
    ids = [t.composition_id for t in request.tracks]
    if stage is S.SET_ANALYSE:
        return SetAnalysisSection(tracks=[TrackAnalysis(composition_id=i, tempo_bpm=120, key="C", mode="major",
                                                        camelot="8B", duration_s=60) for i in ids])
    if stage is S.SET_ORDER:
        return SetOrderSection(order=[1, 0], camelot_distances=[0])
    if stage is S.SET_TRANSITIONS:
        t = Transition(out_index=0, out_start_s=44, in_start_s=0, overlap_s=16, stretch_ratio=1.0, eq_swap_s=8)
        return SetTransitionsSection(transitions=[t], tempo_bpm=120)
    return SetMasterSection(outputs=[artifact("set.flac")], integrated_lufs=-14, true_peak_dbtp=-1, duration_s=104,
                            tracklist=[TracklistEntry(composition_id=i, title="x", start_s=0) for i in ids])


def run(start, make_section, order):
    state, outputs = transition(None, start, T0, POLICY)
    seen: list[S] = []
    now = T0
    for _ in order:
        requests = [o for o in outputs if isinstance(o, StageRequested)]
        assert len(requests) == 1, outputs
        command = requests[0]
        assert type(command.context) is type(state.context)
        seen.append(command.stage)
        now += timedelta(seconds=1)
        done = StageCompleted(composition_id=start.composition_id, tenant_id=TENANT, occurred_at=now,
                              stage=command.stage, attempt=command.attempt, provider="local",
                              context=command.context.with_section(command.stage, make_section(command.stage)),
                              started_at=now, finished_at=now)
        state, outputs = transition(state, done, now, POLICY)
    return state, outputs, seen


def test_a_voice_runs_analyse_then_preview_and_completes_with_its_context():
    start = VoiceRequested(composition_id=uuid.uuid4(), tenant_id=TENANT, occurred_at=T0, request=voice_request())
    state, outputs, seen = run(start, voice_section, [S.VOICE_ANALYSE, S.VOICE_PREVIEW])
    assert seen == [S.VOICE_ANALYSE, S.VOICE_PREVIEW]
    completed = [o for o in outputs if isinstance(o, CompositionCompleted)]
    assert len(completed) == 1 and completed[0].workflow == "voice"
    assert isinstance(completed[0].context, VoiceContext)
    assert completed[0].context.analysis.profile.range_low == 52 and completed[0].context.preview is not None
    progress = [o for o in outputs if isinstance(o, CompositionProgressed)]
    assert progress[-1].progress == 1.0 and progress[-1].workflow == "voice"
    assert {p.stage for p in progress[-1].stages} == {S.VOICE_ANALYSE, S.VOICE_PREVIEW}
    assert workflow_of(completed[0]) == "voice" and not of_a_song(completed[0]) and not of_a_song(start)


def test_a_set_runs_its_four_stages_in_order():
    request = set_request()
    start = SetRequested(composition_id=uuid.uuid4(), tenant_id=TENANT, occurred_at=T0, request=request)
    order = [S.SET_ANALYSE, S.SET_ORDER, S.SET_TRANSITIONS, S.SET_MASTER]
    state, outputs, seen = run(start, lambda stage: set_section(stage, request), order)
    assert seen == order
    completed = [o for o in outputs if isinstance(o, CompositionCompleted)]
    assert len(completed) == 1 and completed[0].workflow == "set"
    assert isinstance(completed[0].context, SetContext) and completed[0].context.order.order == [1, 0]


def test_a_refused_recording_fails_the_voice_naming_the_problem():
    start = VoiceRequested(composition_id=uuid.uuid4(), tenant_id=TENANT, occurred_at=T0, request=voice_request())
    state, outputs = transition(None, start, T0, POLICY)
    error = Error(code="recording_too_short", message="the recording has 2.1 s of voice; 8 s are needed",
                  retryable=False)
    failed = StageFailed(composition_id=start.composition_id, tenant_id=TENANT, occurred_at=T0, stage=S.VOICE_ANALYSE,
                         attempt=1, provider="local", error=error)
    state, outputs = transition(state, failed, T0, POLICY)
    ends = [o for o in outputs if isinstance(o, CompositionFailed)]
    assert len(ends) == 1 and ends[0].workflow == "voice"
    assert ends[0].error.code == "recording_too_short" and "8 s" in ends[0].error.message
