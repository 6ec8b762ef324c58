"""The saga's forward path: start, dispatch, merge, progress, retries, deadlines, fallback, duplicates."""

import uuid
from datetime import timedelta

import pytest

from composition.events import (
    CompositionCompleted,
    CompositionFailed,
    CompositionProgressed,
    StageRequested,
)
from composition.models import SONG_STAGES
from composition.models import StageName as S
from composition.pipeline import spec_of
from composition.retry import Backoff
from composition.saga import transition
from composition.saga_state import SagaState, Tick, next_wakeup
from composition.saga_step import event_id
from tests.unit.composition.saga_fakes import (
    T0,
    TENANT,
    Driver,
    Inputs,
    saga_policy,
    section,
)

ALL_BUT_MASTER = (S.PLAN, S.HARMONY, S.LYRICS, S.MELODY, S.ARRANGEMENT, S.VOCALS, S.RENDER)


def requested_stages(outputs):
    return [o.stage for o in outputs if isinstance(o, StageRequested)]


def test_start_dispatches_plan_and_reports_progress():
    d = Driver()
    outputs = d.start()
    assert requested_stages(outputs) == [S.PLAN]
    plan = outputs[0]
    assert plan.attempt == 1 and plan.provider_hint == "local"
    assert plan.run_s == spec_of(S.PLAN).deadline_s  # the work's bound once a worker starts it
    assert plan.deadline_at == T0 + timedelta(seconds=d.policy.queue_timeout_s + plan.run_s)  # and the queue's
    assert plan.context.request == d.inputs.request and plan.context.plan is None
    progress = d.of_type(CompositionProgressed, outputs)
    assert len(progress) == 1 and progress[0].progress == 0.0
    for o in outputs:
        assert (o.composition_id, o.tenant_id, o.occurred_at) == (d.inputs.composition_id, TENANT, T0)
    assert d.state.requested_at == T0 and d.state.phase == "running"


def test_parallel_branches_and_fan_in_joins():
    d = Driver()
    d.start()
    assert requested_stages(d.complete(S.PLAN)) == [S.HARMONY, S.LYRICS]
    assert requested_stages(d.complete(S.HARMONY)) == []  # melody waits for lyrics too
    assert requested_stages(d.complete(S.LYRICS)) == [S.MELODY]
    assert requested_stages(d.complete(S.MELODY)) == [S.ARRANGEMENT, S.VOCALS]
    assert requested_stages(d.complete(S.VOCALS)) == []
    assert requested_stages(d.complete(S.ARRANGEMENT)) == [S.RENDER]
    assert requested_stages(d.complete(S.RENDER)) == [S.MASTER]  # master joins render and vocals


def test_instrumental_runs_without_lyrics_and_vocals():
    d = Driver(Inputs(instrumental=True))
    d.start()
    assert requested_stages(d.complete(S.PLAN)) == [S.HARMONY]
    assert requested_stages(d.complete(S.HARMONY)) == [S.MELODY]
    assert requested_stages(d.complete(S.MELODY)) == [S.ARRANGEMENT]
    assert requested_stages(d.complete(S.ARRANGEMENT)) == [S.RENDER]
    assert requested_stages(d.complete(S.RENDER)) == [S.MASTER]
    d.complete(S.MASTER)
    assert d.state.phase == "completed"
    assert d.state.stage(S.LYRICS).status == "skipped" and d.state.stage(S.VOCALS).status == "skipped"


def test_only_the_stages_own_section_is_merged():
    d = Driver()
    d.start()
    result = d.inputs.completed(S.PLAN)
    forged = result.context.with_section(S.HARMONY, section(S.HARMONY))
    d.send(result.model_copy(update={"context": forged}))
    assert d.state.context.plan == section(S.PLAN)
    assert d.state.context.harmony is None


def test_a_result_without_its_section_counts_as_a_failed_attempt():
    d = Driver()
    d.start()
    empty = d.inputs.completed(S.PLAN).model_copy(update={"context": d.state.context})
    d.send(empty)
    st = d.state.stage(S.PLAN)
    assert st.status == "retrying" and st.last_error.code == "invalid_result"


def test_master_completion_completes_with_full_context_and_duration():
    d = Driver()
    d.start()
    d.complete(*ALL_BUT_MASTER)
    outputs = d.send(d.inputs.completing(d.last_request(S.MASTER)), at=T0 + timedelta(seconds=42))
    completed = d.of_type(CompositionCompleted, outputs)
    assert len(completed) == 1
    assert completed[0].duration_ms == 42_000
    assert all(completed[0].context.section(stage) is not None for stage in SONG_STAGES)
    assert d.of_type(CompositionProgressed, outputs)[-1].progress == 1.0
    assert d.state.phase == "completed"


def test_progress_is_weighted_completed_work_and_never_goes_backward():
    d = Driver()
    d.start()
    d.complete(S.PLAN, S.HARMONY, S.LYRICS, S.MELODY, S.ARRANGEMENT, S.VOCALS)
    values = [p.progress for p in d.of_type(CompositionProgressed)]
    assert values == sorted(values)
    done = sum(spec_of(s).weight for s in (S.PLAN, S.HARMONY, S.LYRICS, S.MELODY, S.ARRANGEMENT, S.VOCALS))
    total = sum(spec_of(s).weight for s in SONG_STAGES)
    assert values[-1] == done / total
    d.send(d.inputs.failed(S.RENDER))  # a retry does not lower progress
    assert d.of_type(CompositionProgressed)[-1].progress == done / total


def test_retryable_failure_retries_after_backoff_on_a_tick():
    policy = saga_policy(backoff=Backoff(base_s=2.0, factor=2.0, cap_s=60.0, jitter=0.5))
    d = Driver(policy=policy)
    d.start()
    assert requested_stages(d.send(d.inputs.failed(S.PLAN, attempt=1))) == []
    st = d.state.stage(S.PLAN)
    assert st.status == "retrying"
    assert T0 + timedelta(seconds=1) <= st.next_retry_at <= T0 + timedelta(seconds=2)
    assert next_wakeup(d.state) == st.next_retry_at
    assert requested_stages(d.tick(st.next_retry_at - timedelta(milliseconds=1))) == []
    retry = d.tick(st.next_retry_at)
    assert [(o.stage, o.attempt) for o in retry if isinstance(o, StageRequested)] == [(S.PLAN, 2)]
    d.send(d.inputs.failed(S.PLAN, attempt=2))
    second = d.state.stage(S.PLAN).next_retry_at - d.now
    assert timedelta(seconds=2) <= second <= timedelta(seconds=4)  # doubled


def test_retry_limit_then_fallback_to_the_next_provider_then_terminal_failure():
    policy = saga_policy({S.PLAN: ("primary", "backup")})
    d = Driver(policy=policy)
    d.start()
    limit = spec_of(S.PLAN).retry_limit
    hints = []
    for attempt in range(1, 2 * (limit + 1) + 1):
        request = d.last_request(S.PLAN)
        assert request.attempt == attempt
        hints.append(request.provider_hint)
        d.send(d.inputs.failed(S.PLAN, attempt=attempt))
        if d.state.stage(S.PLAN).status == "retrying":
            d.tick(d.state.stage(S.PLAN).next_retry_at)
    assert hints == ["primary"] * (limit + 1) + ["backup"] * (limit + 1)
    failed = d.of_type(CompositionFailed)
    assert len(failed) == 1 and failed[0].stage is S.PLAN and failed[0].compensated == []
    assert "primary" in failed[0].error.message and "backup" in failed[0].error.message


def test_fallback_dispatches_at_once_without_backoff():
    policy = saga_policy({S.PLAN: ("primary", "backup")})
    d = Driver(policy=policy)
    d.start()
    for attempt in range(1, spec_of(S.PLAN).retry_limit + 1):
        d.send(d.inputs.failed(S.PLAN, attempt=attempt))
        d.tick(d.state.stage(S.PLAN).next_retry_at)
    outputs = d.send(d.inputs.failed(S.PLAN, attempt=spec_of(S.PLAN).retry_limit + 1))
    assert [o.provider_hint for o in outputs if isinstance(o, StageRequested)] == ["backup"]


def test_deadline_expiry_counts_as_a_retryable_failure():
    d = Driver()
    d.start()  # and a worker starts it at once
    deadline = d.state.stage(S.PLAN).deadline_at
    assert deadline == T0 + timedelta(seconds=spec_of(S.PLAN).deadline_s)
    assert next_wakeup(d.state) == deadline
    assert d.tick(deadline - timedelta(milliseconds=1)) == []
    d.tick(deadline)
    st = d.state.stage(S.PLAN)
    assert st.status == "retrying" and st.last_error.code == "deadline_exceeded"


def test_late_result_of_a_timed_out_attempt_is_accepted_while_no_other_attempt_runs():
    d = Driver()
    d.start()
    d.tick(d.last_request(S.PLAN).deadline_at)
    assert requested_stages(d.complete(S.PLAN)) == [S.HARMONY, S.LYRICS]
    assert d.state.stage(S.PLAN).status == "completed"


def test_non_retryable_failure_fails_at_once():
    d = Driver()
    d.start()
    d.send(d.inputs.failed(S.PLAN, retryable=False, code="invalid_lyrics"))
    failed = d.of_type(CompositionFailed)
    assert len(failed) == 1 and failed[0].error.code == "invalid_lyrics"
    assert d.state.phase == "failed"


def test_stale_and_duplicate_inputs_are_ignored():
    d = Driver()
    d.start()
    before = d.state
    assert d.send(d.inputs.requested()) == [] and d.state == before  # second request, same id
    assert d.send(d.inputs.completed(S.HARMONY)) == [] and d.state == before  # not dispatched yet
    assert d.send(d.inputs.completed(S.PLAN, attempt=2)) == [] and d.state == before  # future attempt
    assert d.send(d.inputs.compensated(S.PLAN)) == [] and d.state == before  # nothing to compensate
    d.send(d.inputs.failed(S.PLAN, attempt=1))
    d.tick(d.state.stage(S.PLAN).next_retry_at)
    before = d.state
    assert d.send(d.inputs.completed(S.PLAN, attempt=1)) == [] and d.state == before  # old attempt
    assert d.send(d.inputs.failed(S.PLAN, attempt=1)) == [] and d.state == before
    d.complete(S.PLAN)
    before = d.state
    assert d.send(d.inputs.completed(S.PLAN, attempt=2)) == [] and d.state == before  # already completed


def test_inputs_for_unknown_or_other_compositions_are_ignored():
    other = Inputs()
    for message in (other.completed(S.PLAN), other.failed(S.PLAN), other.compensated(S.PLAN),
                    Tick(composition_id=other.composition_id)):
        assert transition(None, message, T0, saga_policy()) == (None, [])
    d = Driver()
    d.start()
    assert transition(d.state, other.completed(S.PLAN), T0, d.policy) == (d.state, [])


def test_nothing_happens_after_completion():
    d = Driver()
    d.start()
    d.complete(*ALL_BUT_MASTER, S.MASTER)
    final = d.state
    for message in (d.inputs.cancel(), d.inputs.completed(S.MASTER), d.inputs.failed(S.MASTER),
                    d.inputs.requested(), Tick(composition_id=d.inputs.composition_id)):
        assert d.send(message, at=T0 + timedelta(days=1)) == []
    assert d.state == final and next_wakeup(d.state) is None


def test_event_ids_are_deterministic_and_replay_gives_the_same_outputs():
    inputs = Inputs(composition_id=uuid.UUID("00000000-0000-0000-0000-000000000001"))
    runs = []
    for _ in range(2):
        d = Driver(inputs)
        d.start()
        d.complete(S.PLAN, S.HARMONY)
        runs.append(d.emitted)
    assert runs[0] == runs[1]
    assert runs[0][0].event_id == event_id(inputs.composition_id, 1)
    assert len({o.event_id for o in runs[0]}) == len(runs[0])


def test_state_round_trips_through_json_mid_run():
    d = Driver()
    d.start()
    d.complete(S.PLAN, S.HARMONY)
    d.send(d.inputs.failed(S.LYRICS))
    restored = SagaState.model_validate_json(d.state.model_dump_json())
    assert restored == d.state
    assert transition(restored, Tick(composition_id=d.inputs.composition_id), d.now + timedelta(minutes=1), d.policy) == (
        transition(d.state, Tick(composition_id=d.inputs.composition_id), d.now + timedelta(minutes=1), d.policy)
    )


def test_a_message_the_saga_does_not_consume_is_a_type_error():
    d = Driver()
    d.start()
    with pytest.raises(TypeError, match="StageRequested"):
        transition(d.state, d.last_request(S.PLAN), T0, d.policy)
