"""Asking the saga to cancel a run, the same for a composition, a voice and a set: refused once the run
has ended, recorded once on the row that asks (``cancel_requested_at``), CancelRequested queued in the
outbox in the caller's transaction. Idempotent: a second ask queues nothing more."""

from __future__ import annotations

import uuid

from sqlalchemy import func, update
from sqlalchemy.orm import Session

from composition.errors import Conflict
from composition.events import CancelRequested
from infra.topics import CONTROL, Topics
from producers import outbox
from producers.tracing import child_of
from readmodel.models import TERMINAL


def request_cancel(session: Session, topics: Topics, row, run_id: uuid.UUID, tenant_id: str, *, what: str,
                   status: str | None, reason: str, traceparent: str | None, **marks) -> str:
    """``row`` is the locked row of the table that keeps the ask (its class gives the table); ``status``
    the run's status as the read model shows it; ``marks`` more columns to set with the first ask."""
    if status in TERMINAL:
        raise Conflict(f"the {what} is already {status}", kind="already-finished")
    if row.cancel_requested_at is None:
        table = type(row)
        session.execute(update(table).where(table.id == run_id).values(cancel_requested_at=func.now(), **marks))
        outbox.add(session, topics.name(CONTROL), CancelRequested(composition_id=run_id, tenant_id=tenant_id,
                                                                  reason=reason),
                   traceparent=child_of(traceparent))
    return "cancelling"
