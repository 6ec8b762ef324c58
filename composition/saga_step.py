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
    StageRequested,
    StageStatus,
)
from composition.models import StageName
from composition.pipeline import reverse_dependency_order, spec_of
from composition.policy import SagaPolicy
from composition.saga_state import SagaState

Output = StageRequested | CompensationRequested | CompositionProgressed | CompositionCompleted | CompositionFailed | CompositionCancelled


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

    def dispatch(self, stage: StageName) -> None:
        """Start the next attempt of ``stage`` on its current provider."""
        st = self.state.stage(stage)
        chain = self.policy.chain(stage)
        provider = chain[min(st.provider_index, len(chain) - 1)]
        deadline = self.now + timedelta(seconds=spec_of(stage).deadline_s * self.policy.deadline_scale)
        attempt = st.attempt + 1
        self.update_stage(
            stage,
            status="running",
            attempt=attempt,
            provider=provider,
            provider_attempts=st.provider_attempts + 1,
            deadline_at=deadline,
            next_retry_at=None,
        )
        assert self.state.context is not None
        self._emit(
            StageRequested,
            stage=stage,
            attempt=attempt,
            deadline_at=deadline,
            provider_hint=provider,
            context=self.state.context,
        )

    def request_compensation(self, stage: StageName, reason: str) -> None:
        """Ask ``stage``'s workers to undo its side effects; its reply is awaited until a deadline."""
        st = self.state.stage(stage)
        deadline = self.now + timedelta(seconds=spec_of(stage).compensation_deadline_s * self.policy.deadline_scale)
        self.update_stage(stage, status="compensating", compensation_deadline_at=deadline)
        self._emit(CompensationRequested, stage=stage, reason=reason, artifacts=st.artifacts)

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
        )

    def completed(self) -> None:
        assert self.state.context is not None and self.state.requested_at is not None
        duration_ms = max(0, int((self.now - self.state.requested_at).total_seconds() * 1000))
        self.update(phase="completed", progress=1.0, ended_at=self.now)
        self._emit(CompositionCompleted, context=self.state.context, duration_ms=duration_ms)

    def ended_after_compensation(self) -> None:
        """Publish the failure or cancel, listing the stages whose compensation was confirmed."""
        state = self.state
        compensated = reverse_dependency_order(state.compensated)
        if state.cancel_reason is not None:
            self.update(phase="cancelled", ended_at=self.now)
            self._emit(
                CompositionCancelled,
                reason=state.cancel_reason,
                compensated=compensated,
                compensation_timed_out=state.compensation_timed_out,
            )
        else:
            self.update(phase="failed", ended_at=self.now)
            self._emit(
                CompositionFailed,
                error=state.outcome_error or Error(code="unknown", message="failed", retryable=False),
                stage=state.failed_stage,
                compensated=compensated,
                compensation_timed_out=state.compensation_timed_out,
            )
