"""DJ sets in the read model: the ``dj_sets`` table (migration 0009) and the set workflow's projection.

The API inserts a set's row when it accepts it (status ``accepted``, the request); the projector
moves it on from the set workflow's events on compositions.events: progress never goes back, a
terminal status is never overwritten, so a redelivered or replayed event changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Float, Index, String, func, update
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from composition.events import (
    CompositionCancelled,
    CompositionCompleted,
    CompositionFailed,
    CompositionProgressed,
    Envelope,
)
from composition.sets import SetContext
from infra.database import Base
from readmodel.models import TERMINAL


class DjSet(Base):
    __tablename__ = "dj_sets"
    __table_args__ = (Index("ix_dj_sets_tenant_created", "tenant_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    progress: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    request: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    """What was asked: the composition ids, order, transition bars, target tempo, announcer."""
    stages: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    tracklist: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    artifacts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    """What was measured on the finished set: loudness, true peak, beat alignment, key distances, tempo."""
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    cancel_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def completed_columns(context: SetContext) -> dict[str, Any]:
    """The finished set's tracklist, files and measurements."""
    master, order, plan = context.master, context.order, context.transitions
    if master is None:
        return {}
    return {
        "tracklist": [{"position": i + 1, "composition_id": str(e.composition_id), "title": e.title,
                       "start_s": e.start_s} for i, e in enumerate(master.tracklist)],
        "artifacts": [a.model_dump(mode="json") for a in master.outputs],
        "result": {"integrated_lufs": master.integrated_lufs, "true_peak_dbtp": master.true_peak_dbtp,
                   "duration_s": master.duration_s, "beat_alignment_ms": master.beat_alignment_ms,
                   "key_distances": master.key_distances, "tempo_bpm": plan.tempo_bpm if plan else None,
                   "order": order.order if order else None,
                   "tempo_steps_bpm": order.tempo_steps_bpm if order else None},
    }


def project_set(session: Session, event: Envelope, source: str | None = None) -> bool:
    """Apply one of a set's lifecycle events; False when it changed nothing (seen before, or after the end)."""
    session.execute(insert(DjSet).values(id=event.composition_id, tenant_id=event.tenant_id, status="accepted",
                                         created_at=event.occurred_at, updated_at=event.occurred_at)
                    .on_conflict_do_nothing(index_elements=["id"]))
    changes: dict[str, Any] = {"updated_at": event.occurred_at}
    if isinstance(event, CompositionProgressed):
        changes.update(status="running", progress=func.greatest(DjSet.progress, event.progress),
                       stages=[s.model_dump(mode="json") for s in event.stages])
    elif isinstance(event, CompositionCompleted) and isinstance(event.context, SetContext):
        changes.update(status="completed", progress=1.0, duration_ms=event.duration_ms, finished_at=event.occurred_at,
                       **completed_columns(event.context))
    elif isinstance(event, CompositionFailed):
        changes.update(status="failed", finished_at=event.occurred_at,
                       error={**event.error.model_dump(mode="json"), "stage": event.stage.value if event.stage else None,
                              "compensated": [s.value for s in event.compensated]})
    elif isinstance(event, CompositionCancelled):
        changes.update(status="cancelled", finished_at=event.occurred_at,
                       error={"code": "cancelled", "message": event.reason, "retryable": False,
                              "compensated": [s.value for s in event.compensated]})
    else:
        return False
    done = session.execute(update(DjSet).where(DjSet.id == event.composition_id, DjSet.status.not_in(TERMINAL))
                           .values(**changes))
    return bool(done.rowcount)
