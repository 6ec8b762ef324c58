"""Run a whole composition in one process: every stage in dependency order, through the router.

The order and the stages a request runs come from the one DAG in ``composition.pipeline`` (lyrics and
vocals are skipped for instrumental requests). Stages with no registered provider are skipped and
reported, so the symbolic half runs on its own.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from composition import pipeline
from composition.artifacts import ArtifactStore
from composition.models import CompositionContext, CompositionRequest, StageName
from music.registry import default_registry
from music.router import ProviderRouter

STAGE_ORDER: tuple[StageName, ...] = tuple(spec.name for spec in pipeline.PIPELINE)  # topological
SYMBOLIC_STAGES: tuple[StageName, ...] = (
    StageName.PLAN, StageName.HARMONY, StageName.LYRICS, StageName.MELODY, StageName.ARRANGEMENT,
)


def stages_for(request: CompositionRequest) -> list[StageName]:
    """The stages a request goes through, in dependency order."""
    return list(pipeline.stages_for(request))


@dataclass
class EngineResult:
    context: CompositionContext
    providers: dict[str, str] = field(default_factory=dict)  # stage -> provider that produced it
    timings_s: dict[str, float] = field(default_factory=dict)  # stage -> wall time
    skipped: list[str] = field(default_factory=list)  # stages with no registered provider


def compose(request: CompositionRequest, store: ArtifactStore, namespace: str, router: ProviderRouter | None = None,
            only: Iterable[StageName] | None = None, hints: dict[StageName, str] | None = None) -> EngineResult:
    """Compose a song; ``only`` limits the stages (e.g. :data:`SYMBOLIC_STAGES`), ``hints`` picks providers."""
    router = router or ProviderRouter(default_registry())
    wanted = set(only) if only is not None else set(STAGE_ORDER)
    result = EngineResult(context=CompositionContext(request=request))
    for stage in stages_for(request):
        if stage not in wanted:
            continue
        if not router.registry.providers_for(stage):
            result.skipped.append(stage.value)
            continue
        started = time.perf_counter()
        name, section = router.run(stage, result.context, store, namespace, (hints or {}).get(stage))
        result.timings_s[stage.value] = time.perf_counter() - started
        result.providers[stage.value] = name
        result.context = result.context.with_section(stage, section)
    return result
