"""The workflows the saga runs, declared once: each a named DAG of stage specs.

Every process that needs to know the stages (the saga, the workers, the API's progress view) reads
them from here. A :class:`Workflow` is a tuple of :class:`StageSpec` in topological order; the saga's
dispatch, joins, progress, retries, deadlines, fallback, cancel and compensation read everything they
need from the declaration, so one implementation runs every workflow.

- ``compose``: a song from a request (the DAG below). Stages that do not apply to a request (lyrics
  and vocals for an instrumental) are skipped, and so are the edges to them.
- ``revise``: one stage of a finished song again, with the user's changes, and every stage that
  depends on it; the stages upstream are kept (carried over unchanged). Same specs as ``compose``.
- ``voice``: a voice profile from the user's own recording (analyse it, sing a preview with it).
- ``set``: a DJ set of finished songs (analyse each, order them, plan the transitions, master the set).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from composition.models import (
    CompositionContext,
    CompositionRequest,
    StageName,
    WorkContext,
)
from composition.sets import SetContext
from composition.voices import VoiceContext


def _always(request: Any) -> bool:
    return True


def _sung(request: CompositionRequest) -> bool:
    return not request.instrumental


@dataclass(frozen=True)
class StageSpec:
    """One stage of a workflow and how the saga treats it.

    ``weight`` is the stage's relative cost, the unit of progress. ``retry_limit`` counts retries on
    one provider after its first attempt (so a provider gets ``retry_limit + 1`` attempts before the
    saga falls back to the next one). ``deadline_s`` bounds one attempt; ``compensation_deadline_s``
    bounds the wait for the stage's StageCompensated. ``changes`` names the request fields a revision
    starting at this stage may change.
    """

    name: StageName
    needs: tuple[StageName, ...]
    weight: float
    retry_limit: int
    deadline_s: float
    compensation_deadline_s: float
    applies_to: Callable[[Any], bool] = field(default=_always, compare=False)
    changes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Workflow:
    """A named DAG of stages in topological order (each stage after everything it needs)."""

    name: str
    specs: tuple[StageSpec, ...]
    context_type: type[WorkContext] = CompositionContext
    starts_anywhere: bool = False
    """True for a workflow that runs from a chosen stage onwards (the stages before it are kept)."""

    def __post_init__(self) -> None:
        _validate(self)

    def spec(self, stage: StageName | str) -> StageSpec:
        stage = StageName(stage)
        for spec in self.specs:
            if spec.name is stage:
                return spec
        raise KeyError(f"workflow {self.name} has no stage {stage.value}")

    @property
    def stage_names(self) -> tuple[StageName, ...]:
        return tuple(spec.name for spec in self.specs)

    def applicable(self, request: CompositionRequest) -> tuple[StageName, ...]:
        """The stages a request can run at all, in topological order."""
        return tuple(spec.name for spec in self.specs if spec.applies_to(request))

    def downstream(self, stage: StageName) -> frozenset[StageName]:
        """``stage`` and every stage that needs it, directly or not."""
        found = {stage}
        for spec in self.specs:  # topological order: needs are seen before the stages that need them
            if any(need in found for need in spec.needs):
                found.add(spec.name)
        return frozenset(found)

    def run_stages(self, request: CompositionRequest, start: StageName | None = None) -> tuple[StageName, ...]:
        """The stages one run executes: every applicable stage, or from ``start`` onwards."""
        if start is not None and not self.starts_anywhere:
            raise ValueError(f"workflow {self.name} always runs from its first stage")
        wanted = self.downstream(start) if start is not None else None
        return tuple(s for s in self.applicable(request) if wanted is None or s in wanted)

    def needs_of(self, stage: StageName, stages: Collection[StageName]) -> tuple[StageName, ...]:
        """``stage``'s needs among ``stages`` (edges to skipped stages are dropped)."""
        return tuple(need for need in self.spec(stage).needs if need in stages)

    def dependents_of(self, stage: StageName, stages: Collection[StageName]) -> tuple[StageName, ...]:
        """The stages among ``stages`` that directly need ``stage``."""
        return tuple(other for other in stages if stage in self.spec(other).needs)

    def ready(self, done: Collection[StageName], started: Collection[StageName], run: Collection[StageName],
              applicable: Collection[StageName]) -> tuple[StageName, ...]:
        """Stages of ``run`` not yet started whose applicable needs are all ``done`` (completed or kept)."""
        return tuple(
            stage for stage in self.stage_names
            if stage in run and stage not in done and stage not in started
            and all(need in done for need in self.needs_of(stage, applicable))
        )

    def reverse_dependency_order(self, stages: Iterable[StageName]) -> list[StageName]:
        """``stages`` ordered so that every stage comes before the stages it needs (compensation order)."""
        wanted = {StageName(s) for s in stages}
        return [spec.name for spec in reversed(self.specs) if spec.name in wanted]

    def total_weight(self, stages: Iterable[StageName]) -> float:
        """The summed weight of ``stages``: the denominator of progress."""
        return sum(self.spec(stage).weight for stage in stages)


def _validate(workflow: Workflow) -> None:
    """Fail at import if a declaration is not a DAG in topological order, so a bad entry never ships."""
    seen: set[StageName] = set()
    for spec in workflow.specs:
        where = f"workflow {workflow.name}: {spec.name.value}"
        if spec.name in seen:
            raise ValueError(f"{where} declared twice")
        missing = [need.value for need in spec.needs if need not in seen]
        if missing:
            raise ValueError(f"{where} needs {missing}, which must be declared before it")
        if spec.weight <= 0 or spec.retry_limit < 0 or spec.deadline_s <= 0 or spec.compensation_deadline_s <= 0:
            raise ValueError(f"{where} has a non-positive weight, limit or deadline")
        seen.add(spec.name)


S = StageName
_SEED = frozenset({"seed"})

COMPOSE = Workflow("compose", (
    StageSpec(S.PLAN, (), weight=1.0, retry_limit=2, deadline_s=30, compensation_deadline_s=30,
              changes=frozenset({"mood", "genres", "theme", "duration_s", "seed", "lyrics", "voice", "mix"})),
    StageSpec(S.HARMONY, (S.PLAN,), weight=1.0, retry_limit=2, deadline_s=30, compensation_deadline_s=30,
              changes=_SEED | {"mix"}),
    StageSpec(S.LYRICS, (S.PLAN,), weight=1.0, retry_limit=2, deadline_s=60, compensation_deadline_s=30,
              applies_to=_sung, changes=_SEED | {"lyrics", "theme", "voice", "mix"}),
    StageSpec(S.MELODY, (S.HARMONY, S.LYRICS), weight=1.0, retry_limit=2, deadline_s=60, compensation_deadline_s=30,
              changes=_SEED | {"voice", "mix"}),
    StageSpec(S.ARRANGEMENT, (S.HARMONY, S.MELODY), weight=2.0, retry_limit=2, deadline_s=60,
              compensation_deadline_s=30, changes=_SEED | {"genres", "mix"}),
    StageSpec(S.VOCALS, (S.MELODY, S.LYRICS), weight=4.0, retry_limit=2, deadline_s=300, compensation_deadline_s=60,
              applies_to=_sung, changes=frozenset({"voice", "mix"})),
    StageSpec(S.RENDER, (S.ARRANGEMENT,), weight=4.0, retry_limit=2, deadline_s=300, compensation_deadline_s=60,
              changes=frozenset({"mix"})),
    StageSpec(S.MASTER, (S.RENDER, S.VOCALS), weight=3.0, retry_limit=2, deadline_s=180, compensation_deadline_s=60,
              changes=frozenset({"mix"})),
))
"""A song from a request."""

REVISE = Workflow("revise", COMPOSE.specs, starts_anywhere=True)
"""One stage of a finished song again with the user's changes, and what depends on it."""

VOICE = Workflow("voice", (
    StageSpec(S.VOICE_ANALYSE, (), weight=2.0, retry_limit=2, deadline_s=120, compensation_deadline_s=30),
    StageSpec(S.VOICE_PREVIEW, (S.VOICE_ANALYSE,), weight=2.0, retry_limit=2, deadline_s=120,
              compensation_deadline_s=30),
), context_type=VoiceContext)
"""A voice profile from the user's own recording."""

SET = Workflow("set", (
    StageSpec(S.SET_ANALYSE, (), weight=3.0, retry_limit=2, deadline_s=300, compensation_deadline_s=30),
    StageSpec(S.SET_ORDER, (S.SET_ANALYSE,), weight=1.0, retry_limit=2, deadline_s=60, compensation_deadline_s=30),
    StageSpec(S.SET_TRANSITIONS, (S.SET_ORDER,), weight=2.0, retry_limit=2, deadline_s=300,
              compensation_deadline_s=60),
    StageSpec(S.SET_MASTER, (S.SET_TRANSITIONS,), weight=4.0, retry_limit=2, deadline_s=600,
              compensation_deadline_s=60),
), context_type=SetContext)
"""A DJ set of finished songs."""

WORKFLOWS: dict[str, Workflow] = {w.name: w for w in (COMPOSE, REVISE, VOICE, SET)}
"""Every declared workflow by name (the saga's state names the one it runs)."""

_declared = {stage for w in WORKFLOWS.values() for stage in w.stage_names}
if _declared != set(StageName):
    raise ValueError(f"stages in no workflow: {sorted(s.value for s in set(StageName) - _declared)}")


def workflow(name: str) -> Workflow:
    try:
        return WORKFLOWS[name]
    except KeyError:
        raise KeyError(f"no workflow {name!r}; declared: {', '.join(WORKFLOWS)}") from None


# ---------------------------------------------------------------- the compose workflow, by name

PIPELINE: tuple[StageSpec, ...] = COMPOSE.specs
"""The compose DAG in a topological order."""


def spec_of(stage: StageName | str) -> StageSpec:
    """The declaration of ``stage`` (in the compose DAG, which every song workflow shares)."""
    return COMPOSE.spec(stage)


def stages_for(request: CompositionRequest) -> tuple[StageName, ...]:
    """The stages a composition request runs, in topological order."""
    return COMPOSE.applicable(request)


def needs_of(stage: StageName, stages: Collection[StageName]) -> tuple[StageName, ...]:
    return COMPOSE.needs_of(stage, stages)


def dependents_of(stage: StageName, stages: Collection[StageName]) -> tuple[StageName, ...]:
    return COMPOSE.dependents_of(stage, stages)


def ready_stages(completed: Collection[StageName], running: Collection[StageName],
                 request: CompositionRequest) -> tuple[StageName, ...]:
    """Compose stages not yet started whose needs are all completed, in topological order."""
    applicable = COMPOSE.applicable(request)
    return COMPOSE.ready(completed, running, applicable, applicable)


def reverse_dependency_order(stages: Iterable[StageName]) -> list[StageName]:
    return COMPOSE.reverse_dependency_order(stages)


def total_weight(stages: Iterable[StageName]) -> float:
    return COMPOSE.total_weight(stages)
