"""The transactional outbox: an event is written to PostgreSQL in the same transaction as the state
change that caused it, and the relay (``producers/outbox_relay.py``) publishes it afterwards.

So a 202 from the API means both the composition row and its CompositionRequested are durable, even
while Kafka is down; nothing is "committed then published" (STYLE.md rule 5).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Identity,
    LargeBinary,
    String,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from composition.events import Envelope
from infra.database import Base
from producers.kafka_publisher import headers_for
from schemas import wire


class OutboxMessage(Base):
    """One message to publish (table created by migration 0001)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    topic: Mapped[str] = mapped_column(String(249), nullable=False)
    key: Mapped[bytes | None] = mapped_column(LargeBinary)
    value: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    headers: Mapped[dict[str, str]] = mapped_column(JSONB, nullable=False, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def outbox_row(topic: str, event: Envelope, *, key: str | None = None, traceparent: str | None = None) -> dict:
    """The outbox row for ``event`` on ``topic``: the value in the process's wire format, keyed by composition id."""
    return {
        "topic": topic,
        "key": (key if key is not None else str(event.composition_id)).encode(),
        "value": wire.encode(event),
        "headers": {name: value.decode() for name, value in headers_for(event, traceparent)},
    }


def add(session: Session, topic: str, event: Envelope, *, key: str | None = None, traceparent: str | None = None) -> None:
    """Queue ``event`` for ``topic`` inside the caller's transaction (published after it commits)."""
    session.execute(insert(OutboxMessage), [outbox_row(topic, event, key=key, traceparent=traceparent)])


def backlog(session: Session) -> int:
    """How many rows wait to be published."""
    return session.execute(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
                           ).scalar_one()


def backlog_age(session: Session) -> tuple[int, float]:
    """How many rows wait, and how many seconds ago the oldest of them was written (0 when none wait)."""
    count, oldest = session.execute(
        select(func.count(), func.coalesce(func.extract("epoch", func.now() - func.min(OutboxMessage.created_at)), 0))
        .where(OutboxMessage.sent_at.is_(None))).one()
    return int(count), max(0.0, float(oldest))
