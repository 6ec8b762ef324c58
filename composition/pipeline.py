"""The stage DAG, declared once.

Every process that needs to know the stages (the saga, the workers, the API's progress view) reads
them from :data:`PIPELINE`. Adding a stage is one :class:`StageSpec` entry here (plus its section in
``composition.models``); the saga, the progress weights and the compensation order follow from it.

Stages that do not apply to a request (lyrics and vocals for an instrumental) are dropped, and so are
the edges to them: melody then needs only harmony, master only render.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

from composition.models import CompositionRequest, StageName


def _always(request: CompositionRequest) -> bool:
    return True


def _sung(request: CompositionRequest) -> bool:
    return not request.instrumental


@dataclass(frozen=True)
class StageSpec:
    """One stage of the DAG and how the saga treats it.

    ``weight`` is the stage's relative cost, the unit of progress. ``retry_limit`` counts retries on
    one provider after its first attempt (so a provider gets ``retry_limit + 1`` attempts before the
    saga falls back to the next one). ``deadline_s`` bounds one attempt; ``compensation_deadline_s``
    bounds the wait for the stage's StageCompensated.
    """

    name: StageName
    needs: tuple[StageName, ...]
    weight: float
    retry_limit: int
    deadline_s: float
    compensation_deadline_s: float
    applies_to: Callable[[CompositionRequest], bool] = field(default=_always, compare=False)


S = StageName

PIPELINE: tuple[StageSpec, ...] = (
    StageSpec(S.PLAN, (), weight=1.0, retry_limit=2, deadline_s=30, compensation_deadline_s=30),
    StageSpec(S.HARMONY, (S.PLAN,), weight=1.0, retry_limit=2, deadline_s=30, compensation_deadline_s=30),
    StageSpec(S.LYRICS, (S.PLAN,), weight=1.0, retry_limit=2, deadline_s=60, compensation_deadline_s=30,
              applies_to=_sung),
    StageSpec(S.MELODY, (S.HARMONY, S.LYRICS), weight=1.0, retry_limit=2, deadline_s=60, compensation_deadline_s=30),
    StageSpec(S.ARRANGEMENT, (S.HARMONY, S.MELODY), weight=2.0, retry_limit=2, deadline_s=60,
              compensation_deadline_s=30),
    StageSpec(S.VOCALS, (S.MELODY, S.LYRICS), weight=4.0, retry_limit=2, deadline_s=300, compensation_deadline_s=60,
              applies_to=_sung),
    StageSpec(S.RENDER, (S.ARRANGEMENT,), weight=4.0, retry_limit=2, deadline_s=300, compensation_deadline_s=60),
    StageSpec(S.MASTER, (S.RENDER, S.VOCALS), weight=3.0, retry_limit=2, deadline_s=180, compensation_deadline_s=60),
)
"""The DAG in a topological order (each stage after everything it needs)."""

_BY_NAME: dict[StageName, StageSpec] = {spec.name: spec for spec in PIPELINE}


def _validate(pipeline: tuple[StageSpec, ...]) -> None:
    """Fail at import if the declaration is not a DAG in topological order, so a bad entry never ships."""
    seen: set[StageName] = set()
    for spec in pipeline:
        if spec.name in seen:
            raise ValueError(f"pipeline: stage {spec.name.value} declared twice")
        missing = [need.value for need in spec.needs if need not in seen]
        if missing:
            raise ValueError(f"pipeline: {spec.name.value} needs {missing}, which must be declared before it")
        if spec.weight <= 0 or spec.retry_limit < 0 or spec.deadline_s <= 0 or spec.compensation_deadline_s <= 0:
            raise ValueError(f"pipeline: {spec.name.value} has a non-positive weight, limit or deadline")
        seen.add(spec.name)
    if seen != set(StageName):
        raise ValueError(f"pipeline: stages without an entry: {sorted(s.value for s in set(StageName) - seen)}")


_validate(PIPELINE)


def spec_of(stage: StageName | str) -> StageSpec:
    """The declaration of ``stage``."""
    return _BY_NAME[StageName(stage)]


def stages_for(request: CompositionRequest) -> tuple[StageName, ...]:
    """The stages a request runs, in topological order."""
    return tuple(spec.name for spec in PIPELINE if spec.applies_to(request))


def needs_of(stage: StageName, stages: Collection[StageName]) -> tuple[StageName, ...]:
    """``stage``'s needs among the stages a composition runs (edges to skipped stages are dropped)."""
    return tuple(need for need in spec_of(stage).needs if need in stages)


def dependents_of(stage: StageName, stages: Collection[StageName]) -> tuple[StageName, ...]:
    """The stages among ``stages`` that directly need ``stage``."""
    return tuple(other for other in stages if stage in spec_of(other).needs)


def ready_stages(
    completed: Collection[StageName], running: Collection[StageName], request: CompositionRequest
) -> tuple[StageName, ...]:
    """Stages not yet started whose needs are all completed, in topological order.

    ``running`` should hold every stage already started and not completed (running or waiting to retry).
    """
    stages = stages_for(request)
    return tuple(
        stage
        for stage in stages
        if stage not in completed and stage not in running and all(n in completed for n in needs_of(stage, stages))
    )


def reverse_dependency_order(stages: Iterable[StageName]) -> list[StageName]:
    """``stages`` ordered so that every stage comes before the stages it needs (compensation order)."""
    wanted = set(StageName(s) for s in stages)
    return [spec.name for spec in reversed(PIPELINE) if spec.name in wanted]


def total_weight(stages: Iterable[StageName]) -> float:
    """The summed weight of ``stages``: the denominator of progress."""
    return sum(spec_of(stage).weight for stage in stages)
