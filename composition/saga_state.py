"""The saga's state for one composition, and the timer input that drives its deadlines.

The state is a frozen pydantic model that round-trips through JSON (``model_dump_json`` /
``model_validate_json``), because the saga process keeps it in a changelog-backed table. Every time
the saga waits for (attempt deadlines, retry times, compensation deadlines) is an absolute instant in
the state, so a restarted process resumes the waits where they were: it only has to keep feeding
:class:`Tick` inputs (see :func:`next_wakeup`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from composition.contexts import AnyContext
from composition.events import Error, StageProgress, StageStatus
from composition.models import Artifact, Frozen, StageName
from composition.pipeline import Workflow, workflow

Phase = Literal["awaiting_request", "running", "compensating", "completed", "failed", "cancelled"]
"""``awaiting_request``: a cancel arrived before its request (they travel on different topics)."""

TERMINAL_PHASES: frozenset[str] = frozenset({"completed", "failed", "cancelled"})


class Tick(Frozen):
    """Timer input: "time has passed for this composition". The time itself is the transition's ``now``."""

    composition_id: uuid.UUID


class StageState(Frozen):
    """Where one stage of one composition is.

    ``attempt`` is the number of the last dispatched attempt (0: never dispatched); ``provider_attempts``
    counts attempts on the current provider, ``provider_index`` its position in the fallback chain.
    ``abandoned`` marks a stage whose attempt was given up when the composition ended (its deadline
    passed while compensating); ``late`` marks a result accepted after that, compensated on arrival.
    """

    status: StageStatus = "pending"
    attempt: int = 0
    provider_index: int = 0
    provider_attempts: int = 0
    provider: str | None = None
    deadline_at: datetime | None = None  # queued: the queue bound plus the run; started: the run's own
    started_at: datetime | None = None  # when a worker started the current attempt (StageStarted)
    next_retry_at: datetime | None = None
    compensation_deadline_at: datetime | None = None
    artifacts: list[Artifact] = Field(default_factory=list)
    duration_ms: int | None = None
    last_error: Error | None = None
    abandoned: bool = False
    late: bool = False


class SagaState(Frozen):
    """One composition's saga: its phase, the stages of its latest run, the context and what it emitted.

    A composition runs the ``compose`` workflow, then any number of revisions (``revise``), one at a
    time: ``revision`` is the run ``stages`` describe (0: the composition itself), ``current_revision``
    the run whose result ``context`` is once the phase is ``completed``. While a revision runs,
    ``context`` is the revision's and ``base`` the current one, which a failed or cancelled revision
    restores.

    ``seq`` counts emitted messages; event ids are ``uuid5(composition_id, seq)`` so a replay of the
    same inputs yields the same ids. ``stages`` holds every stage of the workflow: the ones a request
    skips have status ``skipped``, the ones a revision carries over ``kept``. ``progress`` (of the
    latest run) only ever grows.
    """

    composition_id: uuid.UUID
    tenant_id: str
    phase: Phase
    context: AnyContext | None  # None only while awaiting_request
    stages: dict[StageName, StageState] = Field(default_factory=dict)
    requested_at: datetime | None = None  # when the latest run was asked for
    workflow: str = "compose"
    revision: int = 0
    current_revision: int = 0
    base: AnyContext | None = None
    revise_from: StageName | None = None
    progress: float = 0.0
    seq: int = 0
    outcome_error: Error | None = None  # why it failed (phase compensating/failed)
    failed_stage: StageName | None = None
    cancel_reason: str | None = None  # set when the end is a cancel
    compensated: list[StageName] = Field(default_factory=list)  # in the order StageCompensated arrived
    compensation_timed_out: bool = False
    ended_at: datetime | None = None

    @property
    def terminal(self) -> bool:
        return self.phase in TERMINAL_PHASES

    @property
    def flow(self) -> Workflow:
        """The declared workflow of the latest run."""
        return workflow(self.workflow)

    @property
    def revising(self) -> bool:
        """A revision is the latest run (its end leaves the composition completed, whatever its outcome)."""
        return self.base is not None

    def stage(self, name: StageName) -> StageState:
        return self.stages[name]

    def active_stages(self) -> tuple[StageName, ...]:
        """The stages the latest run executes (neither skipped nor kept), in topological order."""
        return tuple(name for name, st in self.stages.items() if st.status not in ("skipped", "kept"))

    def applicable_stages(self) -> tuple[StageName, ...]:
        """The stages that are part of this composition (run or kept), in topological order."""
        return tuple(name for name, st in self.stages.items() if st.status != "skipped")

    def with_stage(self, name: StageName, **changes: object) -> "SagaState":
        stages = dict(self.stages)
        stages[name] = stages[name].model_copy(update=changes)
        return self.model_copy(update={"stages": stages})

    def names_with(self, *statuses: str) -> tuple[StageName, ...]:
        return tuple(name for name, st in self.stages.items() if st.status in statuses)

    def completed_work(self) -> float:
        """Weighted share of this composition's stages that have completed, in [0, 1]."""
        active = self.active_stages()
        done = [name for name in active if self.stages[name].status == "completed"]
        total = self.flow.total_weight(active)
        return self.flow.total_weight(done) / total if total else 0.0

    def stage_progress(self) -> list[StageProgress]:
        return [
            StageProgress(
                stage=name, status=st.status, attempt=st.attempt, provider=st.provider, duration_ms=st.duration_ms
            )
            for name, st in self.stages.items()
        ]


def next_wakeup(state: SagaState | None) -> datetime | None:
    """The earliest instant at which a :class:`Tick` can change ``state``; None if nothing is timed.

    The process may tick every composition periodically, or index compositions by this instant and
    tick each one once it has passed; either way the state alone says what is due.
    """
    if state is None or state.terminal:
        return None
    instants = []
    for st in state.stages.values():
        if st.status == "running" and st.deadline_at is not None:
            instants.append(st.deadline_at)
        elif st.status == "retrying" and st.next_retry_at is not None:
            instants.append(st.next_retry_at)
        elif st.status == "compensating" and st.compensation_deadline_at is not None:
            instants.append(st.compensation_deadline_at)
    return min(instants, default=None)
