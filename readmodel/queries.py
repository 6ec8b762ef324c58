"""Reads of the read model that follow a composition the caller already owns: its stages and its events."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from composition.models import StageName
from readmodel.models import CompositionEvent, CompositionStage

_STAGE_ORDER = {stage.value: index for index, stage in enumerate(StageName)}


def stages(session: Session, composition_id: uuid.UUID) -> list[CompositionStage]:
    rows = session.execute(select(CompositionStage).where(CompositionStage.composition_id == composition_id)).scalars()
    return sorted(rows, key=lambda row: _STAGE_ORDER.get(row.stage, 99))


def events_after(session: Session, composition_id: uuid.UUID, after_seq: int, limit: int = 200,
                 revision: int | None = None) -> list[CompositionEvent]:
    """The composition's events after ``after_seq`` in order (only revision ``revision``'s, if given)."""
    query = select(CompositionEvent).where(CompositionEvent.composition_id == composition_id,
                                           CompositionEvent.seq > after_seq)
    if revision is not None:
        query = query.where(CompositionEvent.revision == revision)
    return list(session.execute(query.order_by(CompositionEvent.seq).limit(limit)).scalars())
