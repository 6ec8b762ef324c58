"""The sweeper's own table: which compositions' artifact namespaces were swept, and up to which end."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from infra.database import Base


class ArtifactSweep(Base):
    """A composition whose unreferenced artifacts were deleted, for its runs that ended up to ``through``
    (a later run, a revision, makes it a candidate again)."""

    __tablename__ = "artifact_sweeps"

    composition_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    through: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    swept_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
