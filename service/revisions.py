"""The API's writes and reads of revisions: revise a completed composition, cancel a revision, delete
an earlier one; each write records what was asked and queues its event in the outbox, in one transaction.

Rules (named errors, mapped to HTTP in ``api.problems``): a revision needs a completed composition
and no other revision in flight (Conflict); its changes must be ones the stage takes (InvalidInput
naming ``changes.<field>``); the current revision cannot be deleted, nor one still running (Conflict).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from composition.errors import Conflict, NotFound
from composition.events import (
    CancelRequested,
    RevisionDeleteRequested,
    RevisionRequested,
    StageArtifacts,
)
from composition.models import Artifact, CompositionRequest, StageName
from composition.revision import revised_request
from infra.topics import CONTROL, REQUESTS, Topics
from producers import outbox
from producers.tracing import child_of
from readmodel.models import TERMINAL, Composition, Revision
from service import queries
from service.admission import Admission, Backlogged
from service.commands import IdempotencyKeyReused
from service.models import RevisionSubmission, Submission
from service.voices import ready_profile
from tenancy.keys import TenantInfo


@dataclass(frozen=True)
class RevisionView:
    composition_id: uuid.UUID
    number: int
    status: str
    stage: str | None
    changes: dict[str, Any]
    progress: float
    stages: list[dict[str, Any]]
    stages_run: list[str]
    artifacts: list[dict[str, Any]]
    quality: dict[str, Any] | None
    error: dict[str, Any] | None
    duration_ms: int | None
    created_at: Any
    finished_at: Any
    deleted: bool
    current: bool


def _hash(stage: str, changes: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps({"stage": stage, "changes": changes}, sort_keys=True, default=str).encode()).hexdigest()


class Revisions:
    def __init__(self, sessions: sessionmaker[Session], topics: Topics, admission: Admission | None = None) -> None:
        self.sessions = sessions
        self.topics = topics
        self.admission = admission or Admission(sessions, 0)

    # ------------------------------------------------------------ writes

    def revise(self, tenant: TenantInfo, composition_id: uuid.UUID, stage: str, changes: dict[str, Any], *,
               idempotency_key: str | None = None, traceparent: str | None = None) -> tuple[int, bool]:
        """Accept revision n of a completed composition; returns (n, replayed). Backlogged while the
        pipeline is full (a replay of an accepted revision is answered whatever the backlog)."""
        digest = _hash(stage, changes)
        try:
            self.admission.check()
        except Backlogged:
            with self.sessions() as session:
                if idempotency_key is None or self._by_key(session, tenant.id, idempotency_key, digest) is None:
                    raise
        try:
            with self.sessions() as session, session.begin():
                if idempotency_key is not None:
                    earlier = self._by_key(session, tenant.id, idempotency_key, digest)
                    if earlier is not None:
                        return earlier, True
                submission = session.execute(select(Submission).where(Submission.id == composition_id,
                                                                      Submission.tenant_id == tenant.id)
                                             .with_for_update()).scalar_one_or_none()
                composition = session.execute(select(Composition).where(Composition.id == composition_id,
                                                                        Composition.tenant_id == tenant.id)
                                              ).scalar_one_or_none()
                if submission is None and composition is None:
                    raise NotFound("composition")
                if composition is None or composition.status != "completed":
                    raise Conflict("only a completed composition can be revised; this one is "
                                   f"{composition.status if composition else 'accepted'}", kind="not-completed")
                latest = self._latest(session, composition_id)
                if latest is not None and self._status(session, composition_id, latest) not in TERMINAL:
                    raise Conflict(f"revision {latest} of this composition is still running", kind="revision-in-flight")
                base = CompositionRequest.model_validate(composition.request or submission.request)
                profile = ready_profile(session, tenant.id, changes["voice"], field="changes.voice") \
                    if isinstance(changes.get("voice"), str) else None
                request, changed = revised_request(base, stage, changes, voice_profile=profile)
                number = (latest or 0) + 1
                session.execute(insert(RevisionSubmission).values(
                    composition_id=composition_id, number=number, tenant_id=tenant.id, stage=stage, changes=changes,
                    request=request.model_dump(mode="json"), idempotency_key=idempotency_key, request_hash=digest))
                outbox.add(session, self.topics.name(REQUESTS), RevisionRequested(
                    composition_id=composition_id, tenant_id=tenant.id, revision=number, stage=StageName(stage),
                    request=request, changes=changed), traceparent=child_of(traceparent))
            self.admission.admitted()
            return number, False
        except IntegrityError:
            if idempotency_key is None:
                raise
            with self.sessions() as session:  # a concurrent request with the same key won the race
                earlier = self._by_key(session, tenant.id, idempotency_key, digest)
            if earlier is None:
                raise
            return earlier, True

    def cancel(self, tenant: TenantInfo, composition_id: uuid.UUID, number: int, traceparent: str | None = None) -> str:
        with self.sessions() as session, session.begin():
            row = self._own(session, tenant, composition_id, number, lock=True)
            status = self._status(session, composition_id, number)
            if status in TERMINAL:
                raise Conflict(f"revision {number} is already {status}", kind="already-finished")
            if row.cancel_requested_at is None:
                session.execute(update(RevisionSubmission)
                                .where(RevisionSubmission.composition_id == composition_id,
                                       RevisionSubmission.number == number)
                                .values(cancel_requested_at=func.now()))
                outbox.add(session, self.topics.name(CONTROL), CancelRequested(
                    composition_id=composition_id, tenant_id=tenant.id, revision=number,
                    reason=f"revision {number} cancelled by user"), traceparent=child_of(traceparent))
            return "cancelling"

    def delete(self, tenant: TenantInfo, composition_id: uuid.UUID, number: int, traceparent: str | None = None) -> None:
        """Delete revision ``number``'s own artifacts: those no other kept revision uses."""
        with self.sessions() as session, session.begin():
            composition = session.execute(select(Composition).where(Composition.id == composition_id,
                                                                    Composition.tenant_id == tenant.id)
                                          .with_for_update()).scalar_one_or_none()
            revisions = {r.number: r for r in session.execute(
                select(Revision).where(Revision.composition_id == composition_id)).scalars()}
            target = revisions.get(number)
            if composition is None or target is None or target.deleted_at is not None:
                raise NotFound("revision")
            if number == composition.current_revision:
                raise Conflict("the current revision cannot be deleted", kind="current-revision")
            if target.status not in TERMINAL:
                raise Conflict(f"revision {number} is still running", kind="revision-in-flight")
            if number > 0:
                session.execute(update(RevisionSubmission).where(RevisionSubmission.composition_id == composition_id,
                                                                 RevisionSubmission.number == number)
                                .values(delete_requested_at=func.now()))
            kept = {a["uri"] for n, r in revisions.items() if n != number and r.deleted_at is None
                    for a in r.artifacts or []}
            groups: dict[str, list[Artifact]] = {}
            for item in target.artifacts or []:
                if item["uri"] not in kept:
                    groups.setdefault(item["stage"], []).append(Artifact.model_validate(
                        {k: v for k, v in item.items() if k != "stage"}))
            outbox.add(session, self.topics.name(CONTROL), RevisionDeleteRequested(
                composition_id=composition_id, tenant_id=tenant.id, revision=number,
                artifacts=[StageArtifacts(stage=StageName(stage), artifacts=items) for stage, items in groups.items()]),
                traceparent=child_of(traceparent))

    # ------------------------------------------------------------ reads

    def list(self, session: Session, tenant: TenantInfo, composition_id: uuid.UUID) -> list[RevisionView]:
        view = queries.composition(session, tenant.id, composition_id)
        if view is None:
            raise NotFound("composition")
        submitted = {r.number: r for r in session.execute(
            select(RevisionSubmission).where(RevisionSubmission.composition_id == composition_id)).scalars()}
        projected = {r.number: r for r in session.execute(
            select(Revision).where(Revision.composition_id == composition_id)).scalars()}
        current = self._current(session, composition_id)
        numbers = sorted(set(submitted) | set(projected) | {0})
        return [self._view(composition_id, n, submitted.get(n), projected.get(n), current, view) for n in numbers]

    def get(self, session: Session, tenant: TenantInfo, composition_id: uuid.UUID, number: int) -> RevisionView:
        found = [r for r in self.list(session, tenant, composition_id) if r.number == number]
        if not found:
            raise NotFound("revision")
        return found[0]

    # ------------------------------------------------------------ helpers

    @staticmethod
    def _view(composition_id, number, submitted, projected, current, composition) -> RevisionView:
        status = projected.status if projected is not None else ("accepted" if number else composition.status)
        if submitted is not None and submitted.cancel_requested_at is not None and status not in TERMINAL:
            status = "cancelling"
        return RevisionView(
            composition_id=composition_id, number=number, status=status,
            stage=submitted.stage if submitted is not None else None,
            changes=submitted.changes if submitted is not None else {},
            progress=projected.progress if projected is not None else 0.0,
            stages=projected.stages or [] if projected is not None else [],
            stages_run=projected.stages_run or [] if projected is not None else [],
            artifacts=projected.artifacts or [] if projected is not None else [],
            quality=projected.quality if projected is not None else None,
            error=projected.error if projected is not None else None,
            duration_ms=projected.duration_ms if projected is not None else None,
            created_at=(submitted.created_at if submitted is not None else
                        projected.created_at if projected is not None else composition.created_at),
            finished_at=projected.finished_at if projected is not None else None,
            deleted=bool(projected is not None and projected.deleted_at is not None
                         or submitted is not None and submitted.delete_requested_at is not None),
            current=number == current)

    @staticmethod
    def _own(session: Session, tenant: TenantInfo, composition_id: uuid.UUID, number: int,
             lock: bool = False) -> RevisionSubmission:
        query = select(RevisionSubmission).where(RevisionSubmission.composition_id == composition_id,
                                                 RevisionSubmission.number == number,
                                                 RevisionSubmission.tenant_id == tenant.id)
        row = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
        if row is None:
            raise NotFound("revision")
        return row

    @staticmethod
    def _latest(session: Session, composition_id: uuid.UUID) -> int | None:
        return session.execute(select(func.max(RevisionSubmission.number))
                               .where(RevisionSubmission.composition_id == composition_id)).scalar_one_or_none()

    @staticmethod
    def _status(session: Session, composition_id: uuid.UUID, number: int) -> str:
        status = session.execute(select(Revision.status).where(Revision.composition_id == composition_id,
                                                               Revision.number == number)).scalar_one_or_none()
        return status or "accepted"

    @staticmethod
    def _current(session: Session, composition_id: uuid.UUID) -> int:
        return session.execute(select(Composition.current_revision).where(Composition.id == composition_id)
                               ).scalar_one_or_none() or 0

    @staticmethod
    def _by_key(session: Session, tenant_id: str, key: str, digest: str) -> int | None:
        row = session.execute(select(RevisionSubmission.number, RevisionSubmission.request_hash)
                              .where(RevisionSubmission.tenant_id == tenant_id,
                                     RevisionSubmission.idempotency_key == key)).first()
        if row is None:
            return None
        if row.request_hash != digest:
            raise IdempotencyKeyReused()
        return row.number
