"""SQLAlchemy models of the read model: compositions as the public event stream tells them, their
stages and their event log (tables created by migrations 0002 and 0003). The projector is the only
writer; the API reads them beside its own submissions (``service.models``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    Identity,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from infra.database import Base

ACTIVE = ("accepted", "running")
"""Statuses of a composition that has not reached a terminal state."""
TERMINAL = ("completed", "failed", "cancelled")
STATUSES = ACTIVE + TERMINAL


class Composition(Base):
    __tablename__ = "compositions"
    __table_args__ = (
        Index("ix_compositions_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_compositions_tenant_status", "tenant_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    progress: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    request: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    quality: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    artifacts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    current_revision: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    harmony: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    lyrics: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)


class CompositionStage(Base):
    __tablename__ = "composition_stages"

    composition_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    stage: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    provider: Mapped[str | None] = mapped_column(String(64))
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    """occurred_at of the event that last changed this row (not the projection time: replays agree)."""


class CompositionEvent(Base):
    """Every public event of a composition, once (by event id); ``seq`` is the SSE event id."""

    __tablename__ = "composition_events"
    __table_args__ = (Index("ix_composition_events_composition_seq", "composition_id", "seq"),)

    seq: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, unique=True)
    composition_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    tenant_id: Mapped[str] = mapped_column(String(64), nullable=False)
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    source: Mapped[str | None] = mapped_column(Text)
    """topic/partition/offset the event was read from (for operators)."""
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Revision(Base):
    """One run of a composition: 0 the composition itself, n its revision n (as the events tell it)."""

    __tablename__ = "revisions"

    composition_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    stage: Mapped[str | None] = mapped_column(String(16))
    progress: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    stages: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    stages_run: Mapped[list[str] | None] = mapped_column(JSONB)
    artifacts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    """Every artifact of the run, with the stage that stored it."""
    quality: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
