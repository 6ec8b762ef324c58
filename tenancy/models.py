"""SQLAlchemy models of tenancy (tables created by migration 0002)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Integer,
    String,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from infra.database import Base


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
