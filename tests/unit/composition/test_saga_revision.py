"""The saga runs the revise workflow: the chosen stage and what depends on it run again, the rest is
kept byte for byte; a revision is atomic (a failed or cancelled one leaves the composition as it was)."""

from __future__ import annotations

from datetime import timedelta

from composition.events import (
    CancelRequested,
    CompensationRequested,
    CompositionCancelled,
    CompositionCompleted,
    CompositionFailed,
    CompositionProgressed,
    RevisionDeleted,
    RevisionDeleteRequested,
    RevisionRequested,
    StageArtifacts,
    StageCompensated,
    StageRequested,
)
from composition.models import StageName as S
from composition.revision import revised_request
from tests.unit.composition.saga_fakes import T0, TENANT, Driver, artifact

ALL = (S.PLAN, S.HARMONY, S.LYRICS, S.MELODY, S.ARRANGEMENT, S.VOCALS, S.RENDER, S.MASTER)


def completed_song() -> Driver:
    d = Driver()
    d.run_until(*ALL)
    assert d.state.phase == "completed"
    return d


def revision(d: Driver, stage: S, changes: dict, number: int = 1) -> RevisionRequested:
    request, changed = revised_request(d.state.context.request, stage.value, changes)
    return RevisionRequested(composition_id=d.inputs.composition_id, tenant_id=TENANT, occurred_at=T0,
                             revision=number, stage=stage, request=request, changes=changed)


def requests(outputs) -> list[S]:
    return [o.stage for o in outputs if isinstance(o, StageRequested)]


def test_a_master_revision_runs_only_master_and_keeps_every_other_section():
    d = completed_song()
    before = d.state.context
    out = d.send(revision(d, S.MASTER, {"mix": {"lufs": -12}}))
    assert requests(out) == [S.MASTER]
    request = d.last_request(S.MASTER)
    assert request.revision == 1 and request.context.request.mix.lufs == -12
    assert {s: st.status for s, st in d.state.stages.items() if st.status == "kept"}.keys() == set(ALL) - {S.MASTER}
    out = d.complete(S.MASTER)
    [done] = d.of_type(CompositionCompleted, out)
    assert done.revision == 1 and done.stages_run == [S.MASTER]
    for stage in set(ALL) - {S.MASTER}:
        assert done.context.section(stage) == before.section(stage)
    assert d.state.phase == "completed" and d.state.current_revision == 1 and d.state.base is None


def test_a_lyrics_revision_reruns_lyrics_and_everything_after_and_keeps_plan_and_harmony():
    d = completed_song()
    before = d.state.context
    out = d.send(revision(d, S.LYRICS, {"lyrics": "brand new words\nsung on the old tune"}))
    assert requests(out) == [S.LYRICS]  # harmony is kept, so melody waits only for the lyrics
    assert d.state.context.lyrics is None and d.state.context.plan == before.plan
    d.complete(S.LYRICS, S.MELODY)
    assert set(requests(d.emitted[-6:])) >= {S.ARRANGEMENT, S.VOCALS}
    out = d.complete(S.ARRANGEMENT, S.VOCALS, S.RENDER, S.MASTER)
    [done] = d.of_type(CompositionCompleted, out)
    assert done.stages_run == [S.LYRICS, S.MELODY, S.ARRANGEMENT, S.VOCALS, S.RENDER, S.MASTER]
    assert done.context.plan == before.plan and done.context.harmony == before.harmony
    assert done.context.request.lyrics.startswith("brand new")
    progress = [e.progress for e in d.of_type(CompositionProgressed) if e.revision == 1]
    assert progress == sorted(progress) and progress[0] == 0.0  # the revision's own progress, from 0


def test_attempt_numbers_go_on_across_revisions():
    d = completed_song()
    first = d.last_request(S.MASTER).attempt
    d.send(revision(d, S.MASTER, {"mix": {"vocal_db": 3}}))
    assert d.last_request(S.MASTER).attempt == first + 1


def test_a_failed_revision_compensates_its_own_stages_and_leaves_the_composition_as_it_was():
    d = completed_song()
    before = d.state.context
    d.send(revision(d, S.ARRANGEMENT, {"genres": [{"genre": "funk", "weight": 1.0}]}))
    d.complete(S.ARRANGEMENT)
    out = d.send(d.inputs.failed(S.RENDER, attempt=d.last_request(S.RENDER).attempt, retryable=False))
    [compensation] = [o for o in out if isinstance(o, CompensationRequested)]
    assert compensation.stage is S.ARRANGEMENT and compensation.revision == 1  # only what the revision made
    out = d.send(StageCompensated(composition_id=d.inputs.composition_id, tenant_id=TENANT, occurred_at=T0,
                                  stage=S.ARRANGEMENT, revision=1))
    [failed] = d.of_type(CompositionFailed, out)
    assert failed.revision == 1 and failed.compensated == [S.ARRANGEMENT]
    assert d.state.phase == "completed" and d.state.context == before and d.state.current_revision == 0


def test_cancel_mid_revision_and_a_cancel_meant_for_another_run_changes_nothing():
    d = completed_song()
    before = d.state.context
    d.send(revision(d, S.MASTER, {"mix": {"lufs": -10}}))
    assert d.send(CancelRequested(composition_id=d.inputs.composition_id, tenant_id=TENANT, revision=0)) == []
    d.send(CancelRequested(composition_id=d.inputs.composition_id, tenant_id=TENANT, revision=1))
    out = d.send(d.inputs.failed(S.MASTER, attempt=d.last_request(S.MASTER).attempt, retryable=False))
    [cancelled] = d.of_type(CompositionCancelled, out)
    assert cancelled.revision == 1
    assert d.state.phase == "completed" and d.state.context == before


def test_a_revision_while_another_run_is_in_flight_or_before_completion_is_refused():
    d = completed_song()
    first = revision(d, S.MASTER, {"mix": {"lufs": -10}})
    d.send(first)
    out = d.send(revision(d, S.MASTER, {"mix": {"lufs": -9}}, number=2))
    [refused] = d.of_type(CompositionFailed, out)
    assert refused.revision == 2 and refused.error.code == "revision_refused"
    assert d.state.revision == 1 and d.state.phase == "running"  # the running revision goes on
    assert d.send(first) == []  # redelivered: nothing again

    fresh = Driver()
    fresh.start()
    early = RevisionRequested(composition_id=fresh.inputs.composition_id, tenant_id=TENANT, revision=1,
                              stage=S.MASTER, request=fresh.inputs.request)
    [refused] = fresh.of_type(CompositionFailed, fresh.send(early))
    assert "not completed" in refused.error.message and fresh.state.phase == "running"


def test_deleting_an_earlier_revision_deletes_its_own_artifacts_and_nothing_waits_for_it():
    d = completed_song()
    d.send(revision(d, S.MASTER, {"mix": {"lufs": -12}}))
    d.complete(S.MASTER)
    old = [StageArtifacts(stage=S.MASTER, artifacts=[artifact("master.wav", "r0")])]
    delete = RevisionDeleteRequested(composition_id=d.inputs.composition_id, tenant_id=TENANT, revision=0,
                                     artifacts=old)
    out = d.send(delete)
    [compensation] = [o for o in out if isinstance(o, CompensationRequested)]
    assert compensation.revision == 0 and compensation.artifacts == old[0].artifacts
    assert d.of_type(RevisionDeleted, out)[0].revision == 0
    confirmed = StageCompensated(composition_id=d.inputs.composition_id, tenant_id=TENANT, stage=S.MASTER, revision=0)
    assert d.send(confirmed) == [] and d.state.stage(S.MASTER).status == "completed"
    current = delete.model_copy(update={"revision": 1})
    assert d.send(current) == []  # the current revision cannot go


def test_a_late_result_of_an_abandoned_revision_attempt_is_compensated():
    d = completed_song()
    d.send(revision(d, S.MASTER, {"mix": {"lufs": -12}}))
    request = d.last_request(S.MASTER)
    d.send(d.inputs.cancel().model_copy(update={"revision": 1}))
    d.tick(request.deadline_at + timedelta(seconds=1))  # the running attempt is given up
    assert d.state.phase == "completed"
    out = d.send(d.inputs.completing(request))
    [compensation] = [o for o in out if isinstance(o, CompensationRequested)]
    assert compensation.stage is S.MASTER and compensation.revision == 1
