"""The API's reads: what a tenant asked for (submissions) joined with what the pipeline made of it
(the read model). Always scoped to one tenant: another tenant's rows are simply not found.

Status as a user sees it: the read model's (accepted, running, completed, failed, cancelled), or
``accepted`` before the projector has seen the composition, or ``cancelling`` once a cancel was asked
for and the composition has not ended yet.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from readmodel.models import TERMINAL, Composition
from service.models import Submission


@dataclass(frozen=True)
class CompositionView:
    id: uuid.UUID
    status: str
    progress: float
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    request: dict[str, Any] | None
    quality: dict[str, Any] | None
    artifacts: list[dict[str, Any]]
    error: dict[str, Any] | None
    duration_ms: int | None
    revision: int = 0
    plan: dict[str, Any] | None = None
    harmony: list[dict[str, Any]] | None = None
    lyrics: list[dict[str, Any]] | None = None


def _status():
    """The user-facing status, as a SQL expression over the submission and its read-model row."""
    return case(
        (Composition.status.in_(TERMINAL), Composition.status),
        (Submission.cancel_requested_at.is_not(None), literal("cancelling")),
        else_=func.coalesce(Composition.status, literal("accepted")),
    )


def _columns():
    return (func.coalesce(Submission.id, Composition.id).label("id"), _status().label("status"),
            func.coalesce(Composition.progress, 0.0).label("progress"),
            func.coalesce(Submission.created_at, Composition.created_at).label("created_at"),
            func.coalesce(Composition.updated_at, Submission.created_at).label("updated_at"),
            Composition.finished_at, func.coalesce(Composition.request, Submission.request).label("request"),
            Composition.quality, Composition.artifacts, Composition.error, Composition.duration_ms,
            func.coalesce(Composition.current_revision, 0).label("revision"), Composition.plan, Composition.harmony,
            Composition.lyrics)


def _view(row) -> CompositionView:
    return CompositionView(id=row.id, status=row.status, progress=row.progress, created_at=row.created_at,
                           updated_at=row.updated_at, finished_at=row.finished_at, request=row.request,
                           quality=row.quality, artifacts=row.artifacts or [], error=row.error,
                           duration_ms=row.duration_ms, revision=row.revision, plan=row.plan, harmony=row.harmony,
                           lyrics=row.lyrics)


def composition(session: Session, tenant_id: str, composition_id: uuid.UUID) -> CompositionView | None:
    """One composition of the tenant, submitted through the API or only seen by the projector."""
    row = session.execute(
        select(*_columns())
        .select_from(Submission)
        .join(Composition, Composition.id == Submission.id, full=True)
        .where(or_(and_(Submission.id == composition_id, Submission.tenant_id == tenant_id),
                   and_(Composition.id == composition_id, Composition.tenant_id == tenant_id)))
    ).first()
    return _view(row) if row is not None else None


def owns(session: Session, tenant_id: str, composition_id: uuid.UUID) -> bool:
    in_submissions = select(Submission.id).where(Submission.id == composition_id, Submission.tenant_id == tenant_id)
    in_read_model = select(Composition.id).where(Composition.id == composition_id, Composition.tenant_id == tenant_id)
    return session.execute(in_submissions.union_all(in_read_model).limit(1)).first() is not None


def encode_cursor(created_at: datetime, composition_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{composition_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """Raises ValueError for a cursor this API did not hand out."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    created, _, ident = raw.partition("|")
    return datetime.fromisoformat(created), uuid.UUID(ident)


def page(session: Session, tenant_id: str, *, statuses: list[str] | None, limit: int,
         cursor: tuple[datetime, uuid.UUID] | None) -> tuple[list[CompositionView], str | None]:
    """The tenant's submitted compositions, newest first (keyset pagination on created_at, id)."""
    query = (select(*_columns()).select_from(Submission)
             .outerjoin(Composition, Composition.id == Submission.id)
             .where(Submission.tenant_id == tenant_id))
    if statuses:
        query = query.where(_status().in_(statuses))
    if cursor:
        created, ident = cursor
        query = query.where(or_(Submission.created_at < created,
                                and_(Submission.created_at == created, Submission.id < ident)))
    rows = session.execute(query.order_by(Submission.created_at.desc(), Submission.id.desc()).limit(limit + 1)).all()
    views = [_view(r) for r in rows[:limit]]
    more = len(rows) > limit
    return views, (encode_cursor(views[-1].created_at, views[-1].id) if more and views else None)
