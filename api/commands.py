"""The API's writes: each changes the read model and queues its event in the outbox, in one transaction.

Routes decode HTTP into these calls; these know nothing of HTTP beyond raising :class:`Problem`.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api.problems import FieldError, Problem, not_found
from api.tenancy import TenantInfo
from composition.events import CancelRequested, CompositionRequested, FeedbackSubmitted
from composition.models import CompositionRequest
from infra.topics import CONTROL, FEEDBACK, REQUESTS, topic
from producers import outbox
from producers.tracing import child_of
from readmodel.models import ACTIVE, TERMINAL, Composition


@dataclass(frozen=True)
class Submitted:
    id: uuid.UUID
    status: str
    replayed: bool


def request_hash(request: CompositionRequest) -> str:
    return hashlib.sha256(json.dumps(request.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


def submit(sessions: sessionmaker[Session], tenant: TenantInfo, request: CompositionRequest, *,
           idempotency_key: str | None = None, traceparent: str | None = None,
           retry_after_s: int = 5) -> Submitted:
    """Accept a composition: its row and its CompositionRequested (outbox) commit together.

    A repeated ``idempotency_key`` of the same tenant returns the first composition; reusing a key
    for a different request is a 422. Over the tenant's in-flight cap it is a 429.
    """
    digest = request_hash(request)
    try:
        with sessions() as session, session.begin():
            if idempotency_key is not None:
                earlier = _by_key(session, tenant.id, idempotency_key, digest)
                if earlier:
                    return earlier
            if tenant.max_in_flight > 0:
                _check_in_flight(session, tenant, retry_after_s)
            composition_id = uuid.uuid4()
            event = CompositionRequested(composition_id=composition_id, tenant_id=tenant.id, request=request)
            session.execute(insert(Composition).values(
                id=composition_id, tenant_id=tenant.id, status="accepted", progress=0.0,
                request=request.model_dump(mode="json"), idempotency_key=idempotency_key, request_hash=digest))
            outbox.add(session, topic(REQUESTS), event, traceparent=child_of(traceparent))
            return Submitted(composition_id, "accepted", replayed=False)
    except IntegrityError:
        if idempotency_key is None:
            raise
        with sessions() as session:  # a concurrent request with the same key won the race
            earlier = _by_key(session, tenant.id, idempotency_key, digest)
        if earlier is None:
            raise
        return earlier


def _by_key(session: Session, tenant_id: str, key: str, digest: str) -> Submitted | None:
    row = session.execute(select(Composition.id, Composition.status, Composition.request_hash)
                          .where(Composition.tenant_id == tenant_id, Composition.idempotency_key == key)).first()
    if row is None:
        return None
    if row.request_hash != digest:
        raise Problem(422, "this Idempotency-Key was used for a different request", kind="idempotency-key-reused",
                      errors=[FieldError(field="Idempotency-Key", message="already used for a different request")])
    return Submitted(row.id, row.status, replayed=True)


def _check_in_flight(session: Session, tenant: TenantInfo, retry_after_s: int) -> None:
    # one submitter per tenant at a time past this point, so concurrent requests cannot both squeeze in
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:t))"), {"t": "cadenza-tenant:" + tenant.id})
    active = session.execute(
        select(func.count()).select_from(
            select(Composition.id).where(Composition.tenant_id == tenant.id, Composition.status.in_(ACTIVE))
            .limit(tenant.max_in_flight).subquery())
    ).scalar_one()
    if active >= tenant.max_in_flight:
        raise Problem(429, f"{active} compositions in flight, the limit is {tenant.max_in_flight}",
                      kind="too-many-in-flight", headers={"Retry-After": str(retry_after_s)})


def cancel(sessions: sessionmaker[Session], tenant: TenantInfo, composition_id: uuid.UUID,
           reason: str = "cancelled by user", traceparent: str | None = None) -> str:
    """Ask the saga to cancel (CancelRequested via the outbox to compositions.control); idempotent."""
    with sessions() as session, session.begin():
        row = session.execute(select(Composition).where(Composition.id == composition_id,
                                                        Composition.tenant_id == tenant.id)
                              .with_for_update()).scalar_one_or_none()
        if row is None:
            raise not_found()
        if row.status in TERMINAL:
            raise Problem(409, f"the composition is already {row.status}", kind="already-finished")
        if row.cancel_requested_at is not None:
            return row.status
        session.execute(update(Composition).where(Composition.id == composition_id)
                        .values(status="cancelling", cancel_requested_at=func.now(), updated_at=func.now()))
        outbox.add(session, topic(CONTROL), CancelRequested(composition_id=composition_id, tenant_id=tenant.id,
                                                            reason=reason), traceparent=child_of(traceparent))
        return "cancelling"


def feedback(sessions: sessionmaker[Session], tenant: TenantInfo, composition_id: uuid.UUID, *, rating: int,
             tags: list[str], comment: str | None, traceparent: str | None = None) -> uuid.UUID:
    """Publish the listener's rating (FeedbackSubmitted via the outbox to compositions.feedback)."""
    with sessions() as session, session.begin():
        status = session.execute(select(Composition.status).where(Composition.id == composition_id,
                                                                  Composition.tenant_id == tenant.id)).scalar()
        if status is None:
            raise not_found()
        if status != "completed":
            raise Problem(409, f"only a completed composition can be rated; this one is {status}",
                          kind="not-completed")
        event = FeedbackSubmitted(composition_id=composition_id, tenant_id=tenant.id, rating=rating, tags=tags,
                                  comment=comment)
        outbox.add(session, topic(FEEDBACK), event, traceparent=child_of(traceparent))
        return event.event_id
