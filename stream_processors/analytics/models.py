"""The analytics tables (migration 0006), written only by the analytics consumer.

They are facts, one row per thing that happened, and the figures are aggregated when asked
(``queries.py``): a replayed event finds its id in ``analytics_events`` and changes nothing, so the
figures are the same however often the topics are read.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, Integer, SmallInteger, String, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from infra.database import Base


class SeenEvent(Base):
    """Every event applied, by id: the idempotency record."""

    __tablename__ = "analytics_events"

    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class CompositionFact(Base):
    """One composition: what was asked (genre, mood), where it ended, how long it took."""

    __tablename__ = "analytics_compositions"

    composition_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    """The UTC day it was requested (the first event's day until the request is read)."""
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="running")
    genre: Mapped[str | None] = mapped_column(String(32))
    """The blend's dominant genre."""
    mood: Mapped[str | None] = mapped_column(String(32))
    tempo_bpm: Mapped[float | None] = mapped_column(Float)
    tempo_third: Mapped[str | None] = mapped_column(String(8))
    """slow/mid/fast: the third of the dominant genre's tempo range the plan's tempo fell in."""
    requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    """Accepted to completed (the saga's measure), completed compositions only."""


class AttemptFact(Base):
    """One attempt of one stage on one provider: how it ended and how long it ran."""

    __tablename__ = "analytics_attempts"

    composition_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    stage: Mapped[str] = mapped_column(String(32), primary_key=True)
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    provider: Mapped[str] = mapped_column(String(64), nullable=False)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False, server_default="running")
    """running (no result yet, or abandoned when the composition ended), completed, failed."""
    duration_ms: Mapped[int | None] = mapped_column(Integer)


class RatingFact(Base):
    """One rating (FeedbackSubmitted); genre and tempo third come from its composition."""

    __tablename__ = "analytics_ratings"

    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    composition_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, index=True)
    tenant_id: Mapped[str] = mapped_column(String(64), nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    rating: Mapped[int] = mapped_column(SmallInteger, nullable=False)
