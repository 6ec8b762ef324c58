"""The way back: undoing completed stages after a terminal failure or a cancel.

Compensation runs in waves in reverse dependency order: a completed stage is asked to compensate
only once every stage that needs it has settled (never ran, failed, or confirmed its own
compensation). Independent stages compensate in parallel. A stage still running when the composition
ends is waited for until its attempt's deadline: if it completes, it is compensated like any other
(its dependents never ran, so it goes first); if the deadline passes it is abandoned.

The composition ends (CompositionFailed / CompositionCancelled) once nothing is running and every
requested compensation is confirmed, or as soon as one compensation passes its deadline: then the
remaining completed stages are all asked at once (still in reverse order), and the end event says
``compensation_timed_out=True``.

Nothing leaks: a result that arrives after the composition was given up (an abandoned or timed-out
attempt, or any attempt after the end) is accepted as that stage's completion and compensated at
once. Such a stage is marked ``late``: its compensation may come after its needs' compensations.
"""

from __future__ import annotations

from composition.events import Error, StageCompleted
from composition.models import Artifact, StageName, artifacts_in
from composition.saga_step import Step

SETTLED = frozenset({"pending", "skipped", "failed", "compensated"})
"""Statuses of a dependent that let the stages it needs compensate."""


def begin_compensation(step: Step, *, error: Error | None = None, failed_stage: StageName | None = None) -> None:
    """Stop going forward and start undoing: a failure if ``error`` is given, else the state's cancel.

    Stages waiting to retry are given up (no attempt of theirs is in flight); running ones are waited for.
    """
    for stage in step.state.names_with("retrying"):
        step.update_stage(stage, status="failed", next_retry_at=None)
    step.update(phase="compensating", outcome_error=error, failed_stage=failed_stage)
    if error is not None and failed_stage is not None:
        step.progressed(failed_stage, "failed")
    advance_compensation(step)


def advance_compensation(step: Step) -> None:
    """Abandon overdue attempts and those no worker has started (a result that comes anyway is
    compensated on arrival), request every compensation whose turn has come, end when all is undone."""
    now = step.now
    for stage in step.state.names_with("running"):
        st = step.state.stage(stage)
        if st.started_at is None or (st.deadline_at is not None and st.deadline_at <= now):
            step.update_stage(stage, status="failed", abandoned=True, deadline_at=None)
    overdue = [
        stage
        for stage in step.state.names_with("compensating")
        if (deadline := step.state.stage(stage).compensation_deadline_at) is not None and deadline <= now
    ]
    if overdue:
        step.update(compensation_timed_out=True)
        for stage in step.state.flow.reverse_dependency_order(step.state.names_with("completed")):
            step.request_compensation(stage, _reason(step))
        step.ended_after_compensation()
        return
    active = step.state.active_stages()
    flow = step.state.flow
    for stage in flow.reverse_dependency_order(step.state.names_with("completed")):
        if all(step.state.stage(d).status in SETTLED for d in flow.dependents_of(stage, active)):
            step.request_compensation(stage, _reason(step))
    if not step.state.names_with("running", "compensating", "completed"):
        step.ended_after_compensation()


def stage_failed_while_compensating(step: Step, stage: StageName, error: Error) -> None:
    """A stage the compensation was waiting for failed: it has nothing to undo."""
    step.update_stage(stage, status="failed", deadline_at=None, last_error=error)
    advance_compensation(step)


def compensated_confirmed(step: Step, stage: StageName) -> None:
    """A stage confirmed its compensation; duplicates and unrequested confirmations change nothing."""
    if step.state.stage(stage).status != "compensating":
        return
    step.update_stage(stage, status="compensated", compensation_deadline_at=None)
    step.update(compensated=[*step.state.compensated, stage])
    if step.state.phase == "compensating":
        step.progressed(stage, "compensated")
        advance_compensation(step)


def completed_after_end(step: Step, event: StageCompleted) -> None:
    """A result that arrives once the composition stopped going forward: undo it, never use it."""
    state = step.state
    if state.phase not in ("compensating", "failed", "cancelled", "completed"):
        return  # (completed: after a revision that failed or was cancelled, its late results)
    st = state.stage(event.stage)
    if st.status not in ("running", "retrying", "failed") or not 1 <= event.attempt <= st.attempt:
        return  # already completed (and being undone), never dispatched, or skipped
    awaited = st.status == "running" and event.attempt == st.attempt and state.phase == "compensating"
    step.update_stage(
        event.stage,
        status="completed",
        provider=event.provider,
        artifacts=artifacts_of_result(event),
        deadline_at=None,
        late=not awaited,
    )
    if state.phase == "compensating":
        advance_compensation(step)
    else:
        step.request_compensation(event.stage, f"{event.stage.value} completed after the composition ended")


def artifacts_of_result(event: StageCompleted) -> list[Artifact]:
    """Everything a result references in the artifact store: its artifact list and those in its section."""
    found: dict[str, Artifact] = {a.uri: a for a in event.artifacts}
    section = event.context.section(event.stage)
    for artifact in artifacts_in(section):
        found.setdefault(artifact.uri, artifact)
    return list(found.values())


def _reason(step: Step) -> str:
    state = step.state
    if state.cancel_reason is not None:
        return f"composition cancelled: {state.cancel_reason}"
    code = state.outcome_error.code if state.outcome_error else "unknown"
    where = f" at {state.failed_stage.value}" if state.failed_stage else ""
    return f"composition failed{where}: {code}"
