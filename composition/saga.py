"""The composition saga as a pure transition function.

``transition(state, message, now) -> (state, outputs)`` is the whole orchestration logic: the saga
process only decodes a message, loads the state for its composition id, calls this, stores the new
state and publishes the outputs in one Kafka transaction. No I/O, no clock, no randomness: ``now`` is
an argument and the retry jitter is a hash, so a replay of the same inputs gives the same outputs
(event ids included).

Inputs: CompositionRequested, CancelRequested, StageCompleted, StageFailed, StageCompensated and
:class:`~composition.saga_state.Tick`. Outputs: StageRequested and CompensationRequested commands and
the public CompositionProgressed / Completed / Failed / Cancelled events.

This module covers the forward path (start, dispatch, merge, retry, deadlines, fallback); the way
back (compensation after a failure or a cancel) is in :mod:`composition.saga_compensation`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from composition.events import (
    CancelRequested,
    CompositionRequested,
    Error,
    StageCompensated,
    StageCompleted,
    StageFailed,
)
from composition.models import CompositionContext, StageName
from composition.pipeline import PIPELINE, ready_stages, spec_of, stages_for
from composition.policy import DEFAULT_POLICY, SagaPolicy
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

SagaInput = CompositionRequested | CancelRequested | StageCompleted | StageFailed | StageCompensated | Tick
_CONSUMED = (CompositionRequested, CancelRequested, StageCompleted, StageFailed, StageCompensated, Tick)


def transition(
    state: SagaState | None, message: SagaInput, now: datetime, policy: SagaPolicy = DEFAULT_POLICY
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
    if isinstance(message, CompositionRequested):
        return _requested(state, message, now, policy)
    if isinstance(message, CancelRequested) and state is None:
        return _cancelled_before_request(message), []
    if state is None or state.phase == "awaiting_request":
        return state, []
    step = Step(state, now, policy)
    _HANDLERS[type(message)](step, message)
    return step.state, step.outputs


# ---------------------------------------------------------------- start


def _requested(
    state: SagaState | None, event: CompositionRequested, now: datetime, policy: SagaPolicy
) -> tuple[SagaState | None, list[Output]]:
    """Start a composition: every stage the request runs is pending, the ready ones are dispatched."""
    if state is not None and state.phase != "awaiting_request":
        return state, []  # a redelivered request
    active = stages_for(event.request)
    fresh = SagaState(
        composition_id=event.composition_id,
        tenant_id=event.tenant_id,
        phase="running",
        context=CompositionContext(request=event.request),
        stages={spec.name: StageState(status="pending" if spec.name in active else "skipped") for spec in PIPELINE},
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
    assert state.context is not None
    completed = state.names_with("completed")
    started = state.names_with("running", "retrying", "failed")
    for stage in ready_stages(completed, started, state.context.request):
        step.dispatch(stage)


# ---------------------------------------------------------------- results


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
    """Retry with backoff on the same provider, then fall back along the chain, then fail the composition."""
    spec = spec_of(stage)
    st = step.state.stage(stage)
    chain = step.policy.chain(stage)
    if error.retryable and st.provider_attempts <= spec.retry_limit:
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
    if step.state.phase == "running":
        step.update(cancel_reason=event.reason)
        begin_compensation(step)


def _on_compensated(step: Step, event: StageCompensated) -> None:
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
    StageCompleted: _on_completed,  # type: ignore[dict-item]
    StageFailed: _on_failed,  # type: ignore[dict-item]
    CancelRequested: _on_cancel,  # type: ignore[dict-item]
    StageCompensated: _on_compensated,  # type: ignore[dict-item]
    Tick: _on_tick,  # type: ignore[dict-item]
}
