"""Project the public event stream (compositions.events) into the read model, idempotently.

Each event is stored once in ``composition_events`` (unique event id); only an event stored for the
first time changes ``compositions`` and ``composition_stages``, so redelivery and replay of the topic
leave the rows as they were. Events of one composition arrive in order (keyed by composition id); a
terminal status is never overwritten.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from composition.errors import InvalidInput
from composition.events import (
    CompositionCancelled,
    CompositionCompleted,
    CompositionFailed,
    CompositionProgressed,
    Envelope,
)
from composition.models import Artifact, CompositionContext
from readmodel.models import TERMINAL, Composition, CompositionEvent, CompositionStage

PUBLIC_EVENTS = (CompositionProgressed, CompositionCompleted, CompositionFailed, CompositionCancelled)


class NotAPublicEvent(InvalidInput):
    """An event type that does not belong on compositions.events (dead-lettered by the projector)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="unexpected_type")


def artifacts_of(context: CompositionContext) -> list[Artifact]:
    """The downloadable files of a finished composition: the master's outputs first, then MIDI,
    vocals and stems, one per name."""
    found: dict[str, Artifact] = {}
    candidates: list[Artifact] = []
    if context.master:
        candidates += context.master.outputs
    if context.arrangement:
        candidates.append(context.arrangement.midi)
    if context.vocals:
        candidates.append(context.vocals.audio)
    if context.render:
        candidates += context.render.stems
    for artifact in candidates:
        found.setdefault(artifact.name, artifact)
    return list(found.values())


def public_payload(event: Envelope) -> dict[str, Any]:
    """What the event stream shows of an event (the full context stays on Kafka)."""
    base = {"event_id": str(event.event_id), "composition_id": str(event.composition_id),
            "type": type(event).__name__, "occurred_at": event.occurred_at.isoformat()}
    if isinstance(event, CompositionProgressed):
        return {**base, "progress": event.progress, "stage": event.stage.value, "status": event.status,
                "stages": [s.model_dump(mode="json") for s in event.stages]}
    if isinstance(event, CompositionCompleted):
        master = event.context.master
        return {**base, "progress": 1.0, "status": "completed", "duration_ms": event.duration_ms,
                "quality": master.metrics.model_dump(mode="json") if master else None,
                "artifacts": [{"name": a.name, "media_type": a.media_type, "size_bytes": a.size_bytes,
                               "sha256": a.sha256} for a in artifacts_of(event.context)]}
    if isinstance(event, CompositionFailed):
        return {**base, "status": "failed", "error": event.error.model_dump(mode="json"),
                "stage": event.stage.value if event.stage else None,
                "compensated": [s.value for s in event.compensated],
                "compensation_timed_out": event.compensation_timed_out}
    if isinstance(event, CompositionCancelled):
        return {**base, "status": "cancelled", "reason": event.reason,
                "compensated": [s.value for s in event.compensated],
                "compensation_timed_out": event.compensation_timed_out}
    raise NotAPublicEvent(f"{type(event).__name__} is not a public composition event")


def project(session: Session, event: Envelope, source: str | None = None) -> bool:
    """Apply ``event`` to the read model in the caller's transaction; False if it was seen before."""
    payload = public_payload(event)
    stored = session.execute(
        insert(CompositionEvent)
        .values(event_id=event.event_id, composition_id=event.composition_id, tenant_id=event.tenant_id,
                type=type(event).__name__, occurred_at=event.occurred_at, payload=payload, source=source)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(CompositionEvent.seq)
    ).scalar_one_or_none()
    if stored is None:
        return False
    _ensure_composition(session, event)
    changes: dict[str, Any] = {"updated_at": event.occurred_at}
    if isinstance(event, CompositionProgressed):
        changes.update(status="running", progress=event.progress)
        for stage in event.stages:
            values = {"status": stage.status, "attempt": stage.attempt, "provider": stage.provider,
                      "duration_ms": stage.duration_ms, "updated_at": event.occurred_at}
            session.execute(
                insert(CompositionStage)
                .values(composition_id=event.composition_id, stage=stage.stage.value, **values)
                .on_conflict_do_update(index_elements=["composition_id", "stage"], set_=values)
            )
    elif isinstance(event, CompositionCompleted):
        changes.update(status="completed", progress=1.0, quality=payload["quality"], duration_ms=event.duration_ms,
                       artifacts=[a.model_dump(mode="json") for a in artifacts_of(event.context)],
                       finished_at=event.occurred_at)
        if event.context.request is not None:
            changes["request"] = event.context.request.model_dump(mode="json")
    elif isinstance(event, CompositionFailed):
        changes.update(status="failed", error={**payload["error"], "stage": payload["stage"]},
                       finished_at=event.occurred_at)
    elif isinstance(event, CompositionCancelled):
        changes.update(status="cancelled", error={"code": "cancelled", "message": event.reason, "retryable": False},
                       finished_at=event.occurred_at)
    session.execute(
        update(Composition)
        .where(Composition.id == event.composition_id, Composition.status.not_in(TERMINAL))
        .values(**changes)
    )
    return True


def _ensure_composition(session: Session, event: Envelope) -> None:
    """Every composition gets its row when its first public event arrives (the projector writes them all)."""
    session.execute(
        insert(Composition)
        .values(id=event.composition_id, tenant_id=event.tenant_id, status="accepted", progress=0.0,
                created_at=event.occurred_at, updated_at=event.occurred_at)
        .on_conflict_do_nothing(index_elements=["id"])
    )

