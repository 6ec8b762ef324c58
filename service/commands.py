"""The API's writes: each records what was asked and queues its event in the outbox, in one transaction.

Routes decode HTTP into these calls; these know nothing of HTTP: they raise the domain's named errors
(``composition.errors``), which the API maps to problem+json in one place.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass

from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from composition.errors import Busy, Conflict, InvalidInput, NotFound
from composition.events import CompositionRequested, FeedbackSubmitted
from composition.models import CompositionRequest
from infra.topics import FEEDBACK, REQUESTS, Topics
from producers import outbox
from producers.tracing import child_of
from readmodel.models import TERMINAL, Composition
from service import queries
from service.admission import Admission, Backlogged
from service.cancel import request_cancel
from service.models import Submission
from tenancy.keys import TenantInfo


class IdempotencyKeyReused(InvalidInput):
    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was used for a different request", field="Idempotency-Key",
                         reason="idempotency-key-reused")


class TooManyInFlight(Busy):
    def __init__(self, active: int, limit: int, retry_after_s: float) -> None:
        super().__init__(f"{active} compositions in flight, the limit is {limit}", kind="too-many-in-flight",
                         retry_after_s=retry_after_s)


@dataclass(frozen=True)
class Submitted:
    id: uuid.UUID
    status: str
    replayed: bool


class Commands:
    """The writes of one API process, over its database sessions and the deployment's topic names."""

    def __init__(self, sessions: sessionmaker[Session], topics: Topics, *, in_flight_retry_after_s: float = 5,
                 admission: Admission | None = None) -> None:
        self.sessions = sessions
        self.topics = topics
        self.in_flight_retry_after_s = in_flight_retry_after_s
        self.admission = admission or Admission(sessions, 0)

    def submit(self, tenant: TenantInfo, request: CompositionRequest, *, idempotency_key: str | None = None,
               traceparent: str | None = None) -> Submitted:
        """Accept a composition: its submission and its CompositionRequested (outbox) commit together.

        A repeated ``idempotency_key`` of the same tenant returns the first composition; reusing a key
        for a different request is IdempotencyKeyReused. Over the tenant's in-flight cap it is TooManyInFlight;
        while the pipeline's backlog is full it is Backlogged (``service.admission``).
        """
        digest = request_hash(request)
        try:
            self.admission.check()
        except Backlogged:
            if idempotency_key is None or not self._replay(tenant, idempotency_key, digest):
                raise
        try:
            with self.sessions() as session, session.begin():
                if idempotency_key is not None:
                    earlier = _by_key(session, tenant.id, idempotency_key, digest)
                    if earlier:
                        return earlier
                if tenant.max_in_flight > 0:
                    self._check_in_flight(session, tenant)
                composition_id = uuid.uuid4()
                event = CompositionRequested(composition_id=composition_id, tenant_id=tenant.id, request=request)
                session.execute(insert(Submission).values(
                    id=composition_id, tenant_id=tenant.id, request=request.model_dump(mode="json"),
                    idempotency_key=idempotency_key, request_hash=digest))
                outbox.add(session, self.topics.name(REQUESTS), event, traceparent=child_of(traceparent))
            self.admission.admitted()
            return Submitted(composition_id, "accepted", replayed=False)
        except IntegrityError:
            if idempotency_key is None:
                raise
            with self.sessions() as session:  # a concurrent request with the same key won the race
                earlier = _by_key(session, tenant.id, idempotency_key, digest)
            if earlier is None:
                raise
            return earlier

    def _replay(self, tenant: TenantInfo, idempotency_key: str, digest: str) -> bool:
        """Whether this is a repeat of an accepted request (a replay is answered whatever the backlog)."""
        with self.sessions() as session:
            return _by_key(session, tenant.id, idempotency_key, digest) is not None

    def _check_in_flight(self, session: Session, tenant: TenantInfo) -> None:
        # one submitter per tenant at a time past this point, so concurrent requests cannot both squeeze in
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:t))"), {"t": "cadenza-tenant:" + tenant.id})
        active = session.execute(
            select(func.count()).select_from(
                select(Submission.id)
                .outerjoin(Composition, Composition.id == Submission.id)
                .where(Submission.tenant_id == tenant.id,
                       (Composition.status.is_(None)) | Composition.status.not_in(TERMINAL))
                .order_by(Submission.created_at.desc())
                .limit(tenant.max_in_flight).subquery())
        ).scalar_one()
        if active >= tenant.max_in_flight:
            raise TooManyInFlight(active, tenant.max_in_flight, self.in_flight_retry_after_s)

    def cancel(self, tenant: TenantInfo, composition_id: uuid.UUID, reason: str = "cancelled by user",
               traceparent: str | None = None) -> str:
        """Ask the saga to cancel (CancelRequested via the outbox to compositions.control); idempotent."""
        with self.sessions() as session, session.begin():
            submission = session.execute(select(Submission).where(Submission.id == composition_id,
                                                                  Submission.tenant_id == tenant.id)
                                         .with_for_update()).scalar_one_or_none()
            if submission is None:
                raise NotFound("composition")
            return request_cancel(session, self.topics, submission, composition_id, tenant.id, what="composition",
                                  status=_projected_status(session, composition_id), reason=reason,
                                  traceparent=traceparent, cancel_reason=reason)

    def feedback(self, tenant: TenantInfo, composition_id: uuid.UUID, *, rating: int, tags: list[str],
                 comment: str | None, traceparent: str | None = None) -> uuid.UUID:
        """Publish the listener's rating (FeedbackSubmitted via the outbox to compositions.feedback)."""
        with self.sessions() as session, session.begin():
            view = queries.composition(session, tenant.id, composition_id)
            if view is None:
                raise NotFound("composition")
            if view.status != "completed":
                raise Conflict(f"only a completed composition can be rated; this one is {view.status}",
                               kind="not-completed")
            event = FeedbackSubmitted(composition_id=composition_id, tenant_id=tenant.id, rating=rating, tags=tags,
                                      comment=comment)
            outbox.add(session, self.topics.name(FEEDBACK), event, traceparent=child_of(traceparent))
            return event.event_id


def request_hash(request: CompositionRequest) -> str:
    return hashlib.sha256(json.dumps(request.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


def _by_key(session: Session, tenant_id: str, key: str, digest: str) -> Submitted | None:
    row = session.execute(select(Submission.id, Submission.request_hash, Submission.cancel_requested_at)
                          .where(Submission.tenant_id == tenant_id, Submission.idempotency_key == key)).first()
    if row is None:
        return None
    if row.request_hash != digest:
        raise IdempotencyKeyReused()
    status = _projected_status(session, row.id) or "accepted"
    if row.cancel_requested_at is not None and status not in TERMINAL:
        status = "cancelling"
    return Submitted(row.id, status, replayed=True)


def _projected_status(session: Session, composition_id: uuid.UUID) -> str | None:
    return session.execute(select(Composition.status).where(Composition.id == composition_id)).scalar_one_or_none()
