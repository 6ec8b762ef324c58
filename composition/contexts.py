"""Every workflow's context type, and the section type of every stage (what a stage's result holds)."""

from __future__ import annotations

import typing

from composition.models import CompositionContext, Frozen, StageName
from composition.sets import SetContext
from composition.voices import VoiceContext

AnyContext = CompositionContext | VoiceContext | SetContext
"""What a stage request and result carry: the run's context, whichever workflow it runs."""

CONTEXT_TYPES: tuple[type, ...] = (CompositionContext, VoiceContext, SetContext)


def _section_types() -> dict[StageName, type[Frozen]]:
    found: dict[StageName, type[Frozen]] = {}
    for context in CONTEXT_TYPES:
        for stage, name in context.STAGE_FIELDS.items():
            annotation = context.model_fields[name].annotation
            found[stage] = next(t for t in typing.get_args(annotation) if t is not type(None))
    return found


SECTION_TYPES: dict[StageName, type[Frozen]] = _section_types()
"""The section type each stage fills, for every workflow."""

if set(SECTION_TYPES) != set(StageName):
    raise ValueError(f"stages without a section: {sorted(s.value for s in set(StageName) - set(SECTION_TYPES))}")
