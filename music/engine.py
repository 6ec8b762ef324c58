"""Run a whole composition in one process: every stage in dependency order, for the offline CLI.

The order and the stages a request runs come from the compose workflow (``composition.pipeline``;
lyrics and vocals are skipped for instrumental requests). There is no saga here: each stage runs on
the first provider of its chain (the registry's providers that suit the request), and a retryable
failure moves on to the next one, as the saga's fallback would; a permanent one (bad input) stops the
song at once. Stages with no registered provider are skipped and reported.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from composition.artifacts import ArtifactStore
from composition.contexts import SECTION_TYPES
from composition.models import (
    CompositionContext,
    CompositionRequest,
    Frozen,
    StageName,
)
from composition.pipeline import COMPOSE
from music.errors import StageError
from music.registry import ProviderRegistry, default_registry

STAGE_ORDER: tuple[StageName, ...] = COMPOSE.stage_names  # topological
SYMBOLIC_STAGES: tuple[StageName, ...] = (
    StageName.PLAN, StageName.HARMONY, StageName.LYRICS, StageName.MELODY, StageName.ARRANGEMENT,
)


class ChainExhausted(StageError):
    """Every provider of a stage's chain failed; ``errors`` maps each to why."""

    def __init__(self, stage: StageName, errors: dict[str, BaseException]) -> None:
        detail = "; ".join(f"{name}: {err}" for name, err in errors.items()) or "no provider suits the request"
        super().__init__("provider_chain_exhausted", f"{stage.value}: {detail}", retryable=bool(errors))
        self.errors = errors


def stages_for(request: CompositionRequest) -> list[StageName]:
    """The stages a request goes through, in dependency order."""
    return list(COMPOSE.applicable(request))


@dataclass
class EngineResult:
    context: CompositionContext
    providers: dict[str, str] = field(default_factory=dict)  # stage -> provider that produced it
    timings_s: dict[str, float] = field(default_factory=dict)  # stage -> wall time
    cpu_s: dict[str, float] = field(default_factory=dict)  # stage -> CPU time of this process (all threads)
    skipped: list[str] = field(default_factory=list)  # stages with no registered provider


def run_stage(registry: ProviderRegistry, stage: StageName, ctx: CompositionContext, store: ArtifactStore,
              namespace: str, hint: str | None = None) -> tuple[str, Frozen]:
    """``stage``'s section from the first provider of its chain (``hint`` first) that succeeds."""
    chain = registry.chain(stage, ctx.request)
    if hint in chain:
        chain = [hint] + [name for name in chain if name != hint]
    errors: dict[str, BaseException] = {}
    for name in chain:
        try:
            section = registry.get(stage, name).run(ctx, store, namespace)
            if not isinstance(section, SECTION_TYPES[stage]):
                raise TypeError(f"{name} returned {type(section).__name__}, not {SECTION_TYPES[stage].__name__}")
            return name, section
        except StageError as exc:
            if not exc.retryable:
                raise
            errors[name] = exc
        except Exception as exc:  # noqa: BLE001 - a provider's bug: the next provider may do better
            errors[name] = exc
    raise ChainExhausted(stage, errors)


def compose(request: CompositionRequest, store: ArtifactStore, namespace: str, registry: ProviderRegistry | None = None,
            only: Iterable[StageName] | None = None, hints: dict[StageName, str] | None = None) -> EngineResult:
    """Compose a song; ``only`` limits the stages (e.g. :data:`SYMBOLIC_STAGES`), ``hints`` picks providers."""
    registry = registry or default_registry()
    wanted = set(only) if only is not None else set(STAGE_ORDER)
    result = EngineResult(context=CompositionContext(request=request))
    for stage in stages_for(request):
        if stage not in wanted:
            continue
        if not registry.providers_for(stage):
            result.skipped.append(stage.value)
            continue
        started, cpu = time.perf_counter(), time.process_time()
        name, section = run_stage(registry, stage, result.context, store, namespace, (hints or {}).get(stage))
        result.timings_s[stage.value] = time.perf_counter() - started
        result.cpu_s[stage.value] = time.process_time() - cpu
        result.providers[stage.value] = name
        result.context = result.context.with_section(stage, section)
    return result
