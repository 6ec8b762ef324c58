"""Reads of the read model, always scoped to one tenant (another tenant's rows are simply not found)."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from composition.models import StageName
from readmodel.models import Composition, CompositionEvent, CompositionStage

_STAGE_ORDER = {stage.value: index for index, stage in enumerate(StageName)}


def composition(session: Session, tenant_id: str, composition_id: uuid.UUID) -> Composition | None:
    return session.execute(select(Composition).where(Composition.id == composition_id,
                                                     Composition.tenant_id == tenant_id)).scalar_one_or_none()


def owns(session: Session, tenant_id: str, composition_id: uuid.UUID) -> bool:
    return session.execute(select(Composition.id).where(Composition.id == composition_id,
                                                        Composition.tenant_id == tenant_id)).first() is not None


def stages(session: Session, composition_id: uuid.UUID) -> list[CompositionStage]:
    rows = session.execute(select(CompositionStage).where(CompositionStage.composition_id == composition_id)).scalars()
    return sorted(rows, key=lambda row: _STAGE_ORDER.get(row.stage, 99))


def encode_cursor(created_at: datetime, composition_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{composition_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """Raises ValueError for a cursor this API did not hand out."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    created, _, ident = raw.partition("|")
    return datetime.fromisoformat(created), uuid.UUID(ident)


def page(session: Session, tenant_id: str, *, statuses: list[str] | None, limit: int,
         cursor: tuple[datetime, uuid.UUID] | None) -> tuple[list[Composition], str | None]:
    """The tenant's compositions, newest first (keyset pagination on created_at, id)."""
    query = select(Composition).where(Composition.tenant_id == tenant_id)
    if statuses:
        query = query.where(Composition.status.in_(statuses))
    if cursor:
        created, ident = cursor
        query = query.where(or_(Composition.created_at < created,
                                and_(Composition.created_at == created, Composition.id < ident)))
    rows = list(session.execute(query.order_by(Composition.created_at.desc(), Composition.id.desc())
                                .limit(limit + 1)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None)


def events_after(session: Session, composition_id: uuid.UUID, after_seq: int, limit: int = 200) -> list[CompositionEvent]:
    return list(session.execute(
        select(CompositionEvent).where(CompositionEvent.composition_id == composition_id, CompositionEvent.seq > after_seq)
        .order_by(CompositionEvent.seq).limit(limit)).scalars())
