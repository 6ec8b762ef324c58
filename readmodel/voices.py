"""The voices read model: one row per voice profile a tenant uploaded (migration 0008).

The API writes the row when it accepts an upload (in the transaction that queues VoiceRequested in
the outbox, as it does a submission) and removes it when the user deletes the voice; the projector
only ever updates it from the voice workflow's lifecycle events (status, progress, and at the end
the profile and its preview, or the error). A deleted voice's row is gone, so a late event changes
nothing and nothing brings it back.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, Index, String, func, select, update
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, Session, mapped_column

from composition.events import (
    CompositionCancelled,
    CompositionCompleted,
    CompositionFailed,
    CompositionProgressed,
    Envelope,
)
from composition.voices import VoiceContext
from infra.database import Base
from readmodel.models import TERMINAL


class Voice(Base):
    __tablename__ = "voices"
    __table_args__ = (Index("ix_voices_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    progress: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    recording: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)  # the uploaded audio's artifact
    profile: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # duration after trimming, voiced share
    preview: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # the preview's artifact
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def project_voice(session: Session, event: Envelope, source: str | None = None) -> bool:
    """Apply a voice workflow's lifecycle event to its row; False when it changes nothing (an unknown
    or deleted voice, or one already finished)."""
    changes: dict[str, Any] = {"updated_at": event.occurred_at}
    if isinstance(event, CompositionProgressed):
        changes.update(status="running", progress=func.greatest(Voice.progress, event.progress))
    elif isinstance(event, CompositionCompleted):
        context = event.context
        if not isinstance(context, VoiceContext) or context.analysis is None:
            return False
        analysis = context.analysis
        changes.update(status="completed", progress=1.0, finished_at=event.occurred_at,
                       profile=analysis.profile.model_dump(mode="json"),
                       analysis={"duration_s": analysis.duration_s, "voiced_share": analysis.voiced_share},
                       preview=context.preview.audio.model_dump(mode="json") if context.preview else None)
    elif isinstance(event, CompositionFailed):
        changes.update(status="failed", finished_at=event.occurred_at,
                       error={**event.error.model_dump(mode="json"), "stage": event.stage.value if event.stage else None})
    elif isinstance(event, CompositionCancelled):
        changes.update(status="cancelled", finished_at=event.occurred_at,
                       error={"code": "cancelled", "message": event.reason, "retryable": False})
    else:
        return False
    result = session.execute(update(Voice).where(Voice.id == event.composition_id, Voice.status.not_in(TERMINAL))
                             .values(**changes))
    return result.rowcount > 0


def voice_of(session: Session, tenant_id: str, voice_id: uuid.UUID, *, lock: bool = False) -> Voice | None:
    """The tenant's voice (None for another tenant's or a deleted one)."""
    query = select(Voice).where(Voice.id == voice_id, Voice.tenant_id == tenant_id)
    return session.execute(query.with_for_update() if lock else query).scalar_one_or_none()


def voices_of(session: Session, tenant_id: str, limit: int = 100) -> list[Voice]:
    return list(session.execute(select(Voice).where(Voice.tenant_id == tenant_id)
                                .order_by(Voice.created_at.desc()).limit(limit)).scalars())
