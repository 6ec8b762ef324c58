"""What every stage provider shares: the provider protocol, its base class, and the two helpers each
stage starts with (the sections it needs, its random source).

A provider declares its stage, name, version and capabilities and turns a composition context into
that stage's section; it raises :class:`~music.errors.StageError` for anything it can name.
"""

from __future__ import annotations

import random
from typing import Protocol, runtime_checkable

from composition.artifacts import ArtifactStore
from composition.models import (
    Artifact,
    CompositionContext,
    Frozen,
    PlanSection,
    StageName,
    WorkContext,
)
from music.errors import StageError


@runtime_checkable
class StageProvider(Protocol):
    stage: StageName
    name: str
    version: str
    capabilities: frozenset[str]

    def run(self, ctx: CompositionContext, store: ArtifactStore, namespace: str) -> Frozen: ...

    def compensate(self, artifacts: list[Artifact], store: ArtifactStore) -> list[str]: ...


class BaseProvider:
    """Shared behaviour: compensation deletes every artifact the stage stored (idempotently)."""

    stage: StageName
    name: str = "rules"
    version: str = "1"
    capabilities: frozenset[str] = frozenset()

    def compensate(self, artifacts: list[Artifact], store: ArtifactStore) -> list[str]:
        """Delete what the stage stored; returns the URIs actually removed."""
        return [a.uri for a in artifacts if store.delete(a.uri)]


def require(ctx: WorkContext, *stages: str):
    """The named sections of ``ctx``; a missing one is a permanent ``missing_input`` error."""
    found = []
    for stage in stages:
        section = getattr(ctx, stage)
        if section is None:
            raise StageError("missing_input", f"this stage needs the {stage} section, which the context lacks")
        found.append(section)
    return found


def song_plan(ctx: CompositionContext, stage: StageName | str) -> PlanSection:
    """The plan as a later stage reads it: the request's genres and voice (a revision may have changed
    them since the plan ran) and this stage's own seed when the request gives one (``stage_seeds``: a
    revision asked for new choices here only). Missing plan: ``missing_input``."""
    (plan,) = require(ctx, "plan")
    request = ctx.request
    return plan.model_copy(update={
        "genres": request.genres,
        "voice": None if request.instrumental else request.voice,
        "seed": request.stage_seeds.get(StageName(stage).value, plan.seed),
    })


def stage_rng(seed: int, stage: str) -> random.Random:
    """The random source of one stage of one song: every choice a stage makes comes from here."""
    return random.Random(f"{seed}:{stage}")
