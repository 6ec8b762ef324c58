"""The composition saga as a pure transition function.

``transition(state, message, now) -> (state, outputs)`` is the whole orchestration logic: the saga
process only decodes a message, loads the state for its composition id, calls this, stores the new
state and publishes the outputs in one Kafka transaction. No I/O, no clock, no randomness: ``now`` is
an argument and the retry jitter is a hash, so a replay of the same inputs gives the same outputs
(event ids included).

Inputs: CompositionRequested, RevisionRequested, CancelRequested, RevisionDeleteRequested,
StageStarted, StageCompleted, StageFailed, StageCompensated and :class:`~composition.saga_state.Tick`. Outputs:
StageRequested and CompensationRequested commands and the public CompositionProgressed / Completed /
Failed / Cancelled / RevisionDeleted events (each with the run's revision number).

Every run follows a declared workflow (``composition.pipeline``): ``compose`` for the composition
itself, ``revise`` for a revision of a completed one (its chosen stage and everything downstream run
again; the stages upstream are kept). The rules below are the same for every workflow.

This module covers the forward path (start, dispatch, merge, retry, deadlines, fallback); the way
back (compensation after a failure or a cancel) is in :mod:`composition.saga_compensation`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from composition.events import (
    CancelRequested,
    CompositionRequested,
    Error,
    RevisionDeleteRequested,
    RevisionRequested,
    SetRequested,
    StageCompensated,
    StageCompleted,
    StageFailed,
    StageStarted,
    VoiceRequested,
)
from composition.models import StageName
from composition.pipeline import COMPOSE, REVISE, SET, VOICE, Workflow
from composition.policy import FALL_BACK_AT_ONCE, SagaPolicy
from composition.retry import retry_delay
from composition.saga_compensation import (
    advance_compensation,
    artifacts_of_result,
    begin_compensation,
    compensated_confirmed,
    completed_after_end,
    stage_failed_while_compensating,
)
from composition.saga_state import SagaState, StageState, Tick
from composition.saga_step import Output, Step

StartRequested = CompositionRequested | VoiceRequested | SetRequested
SagaInput = (StartRequested | RevisionRequested | CancelRequested | RevisionDeleteRequested | StageStarted
             | StageCompleted | StageFailed | StageCompensated | Tick)
_CONSUMED = (CompositionRequested, VoiceRequested, SetRequested, RevisionRequested, CancelRequested,
             RevisionDeleteRequested, StageStarted, StageCompleted, StageFailed, StageCompensated, Tick)
_STARTS: dict[type, Workflow] = {CompositionRequested: COMPOSE, VoiceRequested: VOICE, SetRequested: SET}
"""The workflow each start event runs (a revision starts from a completed composition instead)."""


def transition(
    state: SagaState | None, message: SagaInput, now: datetime, policy: SagaPolicy
) -> tuple[SagaState | None, list[Output]]:
    """Apply one input to a composition's saga state; return the new state and the messages to emit.

    ``state`` is None for a composition the saga has not seen. Inputs that do not apply (duplicates,
    stale attempts, unknown compositions, anything after the end) return no outputs and the state
    unchanged (a confirmation of a compensation requested after the end is recorded, nothing else).
    ``now`` must be timezone-aware. Any other message type is a programming error (TypeError).
    """
    if not isinstance(message, _CONSUMED):
        raise TypeError(f"the saga does not consume {type(message).__name__}")
    if state is not None and message.composition_id != state.composition_id:
        return state, []
    if isinstance(message, CompositionRequested | VoiceRequested | SetRequested):
        return _requested(state, message, now, policy)
    if isinstance(message, RevisionRequested):
        return _revision_requested(state, message, now, policy)
    if isinstance(message, CancelRequested) and state is None:
        return _cancelled_before_request(message), []
    if state is None or state.phase == "awaiting_request":
        return state, []
    step = Step(state, now, policy)
    _HANDLERS[type(message)](step, message)
    return step.state, step.outputs


# ---------------------------------------------------------------- start


def _requested(
    state: SagaState | None, event: StartRequested, now: datetime, policy: SagaPolicy
) -> tuple[SagaState | None, list[Output]]:
    """Start a run of the event's workflow: every stage the request runs is pending, the ready ones are
    dispatched."""
    if state is not None and state.phase != "awaiting_request":
        return state, []  # a redelivered request
    flow = _STARTS[type(event)]
    active = flow.run_stages(event.request)
    fresh = SagaState(
        composition_id=event.composition_id,
        tenant_id=event.tenant_id,
        phase="running",
        workflow=flow.name,
        context=flow.context_type(request=event.request),
        stages={name: StageState(status="pending" if name in active else "skipped") for name in flow.stage_names},
        requested_at=event.occurred_at,
        seq=state.seq if state is not None else 0,
        cancel_reason=state.cancel_reason if state is not None else None,
    )
    step = Step(fresh, now, policy)
    if state is not None:  # the cancel overtook its request: end it before any work starts
        begin_compensation(step)
        return step.state, step.outputs
    _dispatch_ready(step)
    step.progressed(active[0], "running")
    return step.state, step.outputs


def _revision_requested(
    state: SagaState | None, event: RevisionRequested, now: datetime, policy: SagaPolicy
) -> tuple[SagaState | None, list[Output]]:
    """Start revision ``n`` of a completed composition: its stage and everything downstream run again with
    the revised request, the stages upstream are kept as they are (their sections byte for byte)."""
    if state is not None and event.revision <= state.revision:
        return state, []  # a redelivered revision
    refusal = None
    if state is None:
        refusal = "the saga holds no state of this composition (never requested, or purged after its retention)"
    elif (state.context is None or state.phase in ("awaiting_request", "failed", "cancelled")
            or (state.revision == 0 and state.phase != "completed")):
        refusal = "the composition has not completed"
    elif state.phase != "completed":
        refusal = "another run of this composition is in flight"
    elif event.revision != state.revision + 1:
        refusal = f"revision {event.revision} does not follow revision {state.revision}"
    if refusal is not None:
        placeholder = state or SagaState(composition_id=event.composition_id, tenant_id=event.tenant_id,
                                         phase="awaiting_request", context=None)
        step = Step(placeholder, now, policy)
        step.refused(event.revision, Error(code="revision_refused", message=refusal, retryable=False))
        return (step.state if state is not None else None), step.outputs
    assert state.context is not None
    run = REVISE.run_stages(event.request, event.stage)
    applicable = REVISE.applicable(event.request)
    context = state.context.model_copy(update={"request": event.request}).without(run)
    stages = {}
    for name in REVISE.stage_names:
        before = state.stages.get(name, StageState())
        if name in run:
            stages[name] = StageState(status="pending", attempt=before.attempt)  # attempt numbers go on
        elif name in applicable:
            stages[name] = before.model_copy(update={"status": "kept"})
        else:
            stages[name] = StageState(status="skipped", attempt=before.attempt)
    fresh = state.model_copy(update={
        "phase": "running", "workflow": REVISE.name, "revision": event.revision, "revise_from": event.stage,
        "base": state.context, "context": context, "stages": stages, "requested_at": event.occurred_at,
        "progress": 0.0, "outcome_error": None, "failed_stage": None, "cancel_reason": None, "compensated": [],
        "compensation_timed_out": False, "ended_at": None,
    })
    step = Step(fresh, now, policy)
    _dispatch_ready(step)
    step.progressed(event.stage, "running")
    return step.state, step.outputs


def _cancelled_before_request(event: CancelRequested) -> SagaState:
    """Remember a cancel whose request has not arrived yet (requests and cancels use different topics)."""
    return SagaState(
        composition_id=event.composition_id,
        tenant_id=event.tenant_id,
        phase="awaiting_request",
        context=None,
        cancel_reason=event.reason,
    )


def _dispatch_ready(step: Step) -> None:
    state = step.state
    done = state.names_with("completed", "kept")
    started = state.names_with("running", "retrying", "failed")
    for stage in state.flow.ready(done, started, state.active_stages(), state.applicable_stages()):
        if step.state.phase != "running":
            return
        if not step.dispatch(stage):
            error = Error(code="no_provider", message=f"no {stage.value} provider suits this request", retryable=False)
            step.update_stage(stage, status="failed", last_error=error)
            begin_compensation(step, error=error, failed_stage=stage)


# ---------------------------------------------------------------- results


def _on_started(step: Step, event: StageStarted) -> None:
    """A worker started the current attempt: from now on its deadline is the stage's own (the wait in
    the queue no longer counts against it)."""
    state = step.state
    st = state.stage(event.stage)
    if (state.phase != "running" or st.status != "running" or event.attempt != st.attempt
            or event.revision != state.revision or st.started_at is not None):
        return  # stale, duplicate, or after the end
    run_s = state.flow.spec(event.stage).deadline_s * step.policy.deadline_scale
    step.update_stage(event.stage, started_at=event.started_at,
                      deadline_at=event.started_at + timedelta(seconds=run_s))


def _on_completed(step: Step, event: StageCompleted) -> None:
    """Take a stage's own section into the context, then start whatever that made ready."""
    state = step.state
    if state.phase != "running":
        completed_after_end(step, event)
        return
    st = state.stage(event.stage)
    if st.status not in ("running", "retrying") or event.attempt != st.attempt:
        return  # duplicate, stale attempt, or a stage this composition skips
    assert state.context is not None
    try:
        context = state.context.merged(event.context, event.stage)
    except (TypeError, ValueError) as exc:
        _attempt_failed(step, event.stage, Error(code="invalid_result", message=str(exc), retryable=True))
        return
    step.update(context=context)
    step.update_stage(
        event.stage,
        status="completed",
        provider=event.provider,
        artifacts=artifacts_of_result(event),
        duration_ms=max(0, int((event.finished_at - event.started_at).total_seconds() * 1000)),
        deadline_at=None,
        next_retry_at=None,
    )
    if all(step.state.stage(name).status == "completed" for name in step.state.active_stages()):
        step.progressed(event.stage, "completed")
        step.completed()
        return
    _dispatch_ready(step)
    step.progressed(event.stage, "completed")


def _on_failed(step: Step, event: StageFailed) -> None:
    state = step.state
    st = state.stage(event.stage)
    if st.status != "running" or event.attempt != st.attempt:
        return  # stale attempt (already timed out or superseded) or duplicate
    if state.phase == "running":
        _attempt_failed(step, event.stage, event.error)
    elif state.phase == "compensating":
        stage_failed_while_compensating(step, event.stage, event.error)


def _attempt_failed(step: Step, stage: StageName, error: Error) -> None:
    """Retry with backoff on the same provider, then fall back along the chain, then fail the composition.

    An error that says the provider itself is unusable (FALL_BACK_AT_ONCE) goes to the next provider at once."""
    spec = step.state.flow.spec(stage)
    st = step.state.stage(stage)
    chain = step.chain(stage)
    same_provider = error.retryable and error.code not in FALL_BACK_AT_ONCE
    if same_provider and st.provider_attempts <= spec.retry_limit:
        delay = retry_delay(step.policy.backoff, step.state.composition_id, stage, st.attempt, st.provider_attempts)
        step.update_stage(stage, status="retrying", next_retry_at=step.now + delay, deadline_at=None, last_error=error)
        step.progressed(stage, "retrying")
    elif error.retryable and st.provider_index + 1 < len(chain):
        step.update_stage(stage, provider_index=st.provider_index + 1, provider_attempts=0, last_error=error)
        step.dispatch(stage)
        step.progressed(stage, "running")
    else:
        if error.retryable:
            error = Error(
                code=error.code,
                message=f"{stage.value}: {st.attempt} attempts over providers {list(chain)} failed; last: {error.message}",
                retryable=True,
            )
        step.update_stage(stage, status="failed", deadline_at=None, next_retry_at=None, last_error=error)
        begin_compensation(step, error=error, failed_stage=stage)


# ---------------------------------------------------------------- control and time


def _on_cancel(step: Step, event: CancelRequested) -> None:
    """Cancel the run the request names (a cancel meant for an earlier run changes nothing)."""
    if step.state.phase == "running" and event.revision == step.state.revision:
        step.update(cancel_reason=event.reason)
        begin_compensation(step)


def _on_delete_revision(step: Step, event: RevisionDeleteRequested) -> None:
    """Delete an earlier revision's own artifacts (never the current revision, nor a run in flight)."""
    state = step.state
    if event.revision == state.current_revision or (event.revision == state.revision and not state.terminal):
        return
    for group in event.artifacts:
        if group.artifacts:
            step.delete_artifacts(group.stage, group.artifacts, f"revision {event.revision} deleted", event.revision)
    step.revision_deleted(event.revision)


def _on_compensated(step: Step, event: StageCompensated) -> None:
    if event.revision == step.state.revision:  # another run's deletion is nothing the saga waits for
        compensated_confirmed(step, event.stage)


def _on_tick(step: Step, tick: Tick) -> None:
    """Expire attempts past their deadline (a retryable failure) and start retries whose time has come."""
    if step.state.phase == "compensating":
        advance_compensation(step)
        return
    for stage in step.state.names_with("running"):
        deadline = step.state.stage(stage).deadline_at
        if step.state.phase == "running" and deadline is not None and deadline <= step.now:
            error = Error(code="deadline_exceeded", message=f"{stage.value} passed its deadline", retryable=True)
            _attempt_failed(step, stage, error)
    if step.state.phase == "compensating":
        return
    for stage in step.state.names_with("retrying"):
        retry_at = step.state.stage(stage).next_retry_at
        if step.state.phase == "running" and retry_at is not None and retry_at <= step.now:
            step.dispatch(stage)
            step.progressed(stage, "running")


_HANDLERS: dict[type, Callable[[Step, object], None]] = {
    StageStarted: _on_started,  # type: ignore[dict-item]
    StageCompleted: _on_completed,  # type: ignore[dict-item]
    StageFailed: _on_failed,  # type: ignore[dict-item]
    CancelRequested: _on_cancel,  # type: ignore[dict-item]
    StageCompensated: _on_compensated,  # type: ignore[dict-item]
    RevisionDeleteRequested: _on_delete_revision,  # type: ignore[dict-item]
    Tick: _on_tick,  # type: ignore[dict-item]
}
