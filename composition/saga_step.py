"""One transition in progress: the state so far, the messages to emit, the clock and the policy.

A :class:`Step` is created for each call of :func:`composition.saga.transition` and discarded after;
handlers update ``step.state`` (a new frozen model each time) and append messages through the builders
here, which fill the envelope (deterministic event id, composition id, tenant id, ``occurred_at = now``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from composition.events import (
    CompensationRequested,
    CompositionCancelled,
    CompositionCompleted,
    CompositionFailed,
    CompositionProgressed,
    Envelope,
    Error,
    RevisionDeleted,
    StageRequested,
    StageStatus,
)
from composition.models import StageName
from composition.policy import SagaPolicy
from composition.saga_state import SagaState

Output = (StageRequested | CompensationRequested | CompositionProgressed | CompositionCompleted | CompositionFailed
          | CompositionCancelled | RevisionDeleted)


def event_id(composition_id: uuid.UUID, seq: int) -> uuid.UUID:
    """The id of the ``seq``-th message the saga emits for a composition: the same on every replay."""
    return uuid.uuid5(composition_id, str(seq))


@dataclass
class Step:
    state: SagaState
    now: datetime
    policy: SagaPolicy
    outputs: list[Output] = field(default_factory=list)

    def _emit(self, cls: type[Envelope], **fields: object) -> None:
        seq = self.state.seq + 1
        self.outputs.append(
            cls(
                event_id=event_id(self.state.composition_id, seq),
                composition_id=self.state.composition_id,
                tenant_id=self.state.tenant_id,
                occurred_at=self.now,
                **fields,
            )
        )
        self.state = self.state.model_copy(update={"seq": seq})

    def update(self, **changes: object) -> None:
        self.state = self.state.model_copy(update=changes)

    def update_stage(self, stage: StageName, **changes: object) -> None:
        self.state = self.state.with_stage(stage, **changes)

    # ------------------------------------------------------------ commands to workers

    def chain(self, stage: StageName) -> tuple[str, ...]:
        """``stage``'s providers for this composition's request, in order (the saga's choice, from the policy)."""
        assert self.state.context is not None
        return self.policy.chain(stage, self.state.context.request)

    def dispatch(self, stage: StageName) -> bool:
        """Start the next attempt of ``stage`` on its provider: the chain's entry at the stage's position,
        or the next one after it whose circuit is not open. False if the chain is empty."""
        st = self.state.stage(stage)
        chain = self.chain(stage)
        if not chain:
            return False
        index = min(st.provider_index, len(chain) - 1)
        usable = [i for i in range(index, len(chain)) if not self.policy.is_open(stage, chain[i])]
        if usable and usable[0] != index:
            index, provider_attempts = usable[0], 0  # skip an open circuit: a fallback, as if it had failed
        else:
            provider_attempts = st.provider_attempts
        provider = chain[index]
        run_s = self.state.flow.spec(stage).deadline_s * self.policy.deadline_scale
        # until a worker says it started, the attempt may wait in the queue; then run_s bounds the work
        deadline = self.now + timedelta(seconds=self.policy.queue_timeout_s + run_s)
        attempt = st.attempt + 1
        self.update_stage(
            stage,
            status="running",
            attempt=attempt,
            provider=provider,
            provider_index=index,
            provider_attempts=provider_attempts + 1,
            deadline_at=deadline,
            started_at=None,
            next_retry_at=None,
        )
        assert self.state.context is not None
        self._emit(
            StageRequested,
            stage=stage,
            attempt=attempt,
            deadline_at=deadline,
            run_s=run_s,
            provider_hint=provider,
            context=self.state.context,
            revision=self.state.revision,
        )
        return True

    def request_compensation(self, stage: StageName, reason: str) -> None:
        """Ask ``stage``'s workers to undo its side effects; its reply is awaited until a deadline."""
        st = self.state.stage(stage)
        spec = self.state.flow.spec(stage)
        deadline = self.now + timedelta(seconds=spec.compensation_deadline_s * self.policy.deadline_scale)
        self.update_stage(stage, status="compensating", compensation_deadline_at=deadline)
        self._emit(CompensationRequested, stage=stage, reason=reason, artifacts=st.artifacts,
                   revision=self.state.revision)

    def delete_artifacts(self, stage: StageName, artifacts: list, reason: str, revision: int) -> None:
        """Ask ``stage``'s workers to delete artifacts of an earlier revision (nothing awaits the reply)."""
        self._emit(CompensationRequested, stage=stage, reason=reason, artifacts=artifacts, revision=revision)

    # ------------------------------------------------------------ the public stream

    def progressed(self, stage: StageName, status: StageStatus) -> None:
        """Publish the composition's progress after a change to ``stage``; progress never goes backward."""
        progress = self.state.progress
        if self.state.phase == "running":  # while undoing, the published progress stays where it was
            progress = max(progress, self.state.completed_work())
        self.update(progress=progress)
        self._emit(
            CompositionProgressed,
            progress=progress,
            stage=stage,
            status=status,
            stages=self.state.stage_progress(),
            revision=self.state.revision,
            workflow=self.state.workflow,
        )

    def completed(self) -> None:
        """The run is done: its context becomes the composition's current one."""
        assert self.state.context is not None and self.state.requested_at is not None
        duration_ms = max(0, int((self.now - self.state.requested_at).total_seconds() * 1000))
        stages_run = list(self.state.active_stages())
        self.update(phase="completed", progress=1.0, ended_at=self.now, base=None,
                    current_revision=self.state.revision)
        self._emit(CompositionCompleted, context=self.state.context, duration_ms=duration_ms,
                   revision=self.state.revision, stages_run=stages_run, workflow=self.state.workflow)

    def ended_after_compensation(self) -> None:
        """Publish the failure or cancel, listing the stages whose compensation was confirmed. A revision
        that ends so leaves the composition as it was: completed, with its current context."""
        state = self.state
        compensated = state.flow.reverse_dependency_order(state.compensated)
        ended = {"phase": "completed", "context": state.base, "base": None} if state.revising else {}
        if state.cancel_reason is not None:
            self.update(**{"phase": "cancelled", "ended_at": self.now, **ended})
            self._emit(
                CompositionCancelled,
                reason=state.cancel_reason,
                compensated=compensated,
                compensation_timed_out=state.compensation_timed_out,
                revision=state.revision,
                workflow=state.workflow,
            )
        else:
            self.update(**{"phase": "failed", "ended_at": self.now, **ended})
            self._emit(
                CompositionFailed,
                error=state.outcome_error or Error(code="unknown", message="failed", retryable=False),
                stage=state.failed_stage,
                compensated=compensated,
                compensation_timed_out=state.compensation_timed_out,
                revision=state.revision,
                workflow=state.workflow,
            )

    def revision_deleted(self, revision: int) -> None:
        self._emit(RevisionDeleted, revision=revision)

    def refused(self, revision: int, error: Error) -> None:
        """A revision that cannot start (another run is in flight, or the composition did not complete):
        its end, without touching the composition's own state."""
        self._emit(CompositionFailed, error=error, stage=None, compensated=[], revision=revision, workflow="revise")
