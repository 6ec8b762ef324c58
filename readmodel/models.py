"""SQLAlchemy models of the read model and of tenancy (tables created by migration 0002)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Float, ForeignKey, Identity, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from infra.database import Base

ACTIVE = ("accepted", "running", "cancelling")
"""Statuses of a composition that has not reached a terminal state (counted against the in-flight cap)."""
TERMINAL = ("completed", "failed", "cancelled")
STATUSES = ACTIVE + TERMINAL


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    rate_per_s: Mapped[float] = mapped_column(Float, nullable=False)
    """Sustained writes per second (token bucket refill); 0 means unlimited."""
    burst: Mapped[int] = mapped_column(Integer, nullable=False)
    max_in_flight: Mapped[int] = mapped_column(Integer, nullable=False)
    """Compositions accepted and not yet terminal; 0 means unlimited."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    """sha256 hex of the key: keys are 256-bit random tokens, so a fast hash is enough."""
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    """The first characters of the key, to tell keys apart without storing them."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Composition(Base):
    __tablename__ = "compositions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key", name="uq_compositions_tenant_idempotency"),
        Index("ix_compositions_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_compositions_tenant_status", "tenant_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    progress: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    request: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    quality: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    artifacts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


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
