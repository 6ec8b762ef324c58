"""Project the public event stream (compositions.events) into the read model, idempotently.

Each event is stored once in ``composition_events`` (unique event id); only an event stored for the
first time changes the other rows, so redelivery and replay of the topic leave them as they were.
Events of one composition arrive in order (keyed by composition id); a terminal status is never
overwritten.

Every run of a composition has a ``revisions`` row (0: the composition itself, n: its revision n).
The ``compositions`` row is the composition as a user sees it now: its own run's status and stages,
and the current revision's files, quality, request, plan, chords and lyrics (a completed revision
becomes current; a failed or cancelled one changes nothing there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from composition.errors import InvalidInput
from composition.events import (
    SONG_WORKFLOWS,
    CompositionCancelled,
    CompositionCompleted,
    CompositionFailed,
    CompositionProgressed,
    Envelope,
    RevisionDeleted,
    workflow_of,
)
from composition.models import Artifact, CompositionContext, StageName, artifacts_in
from readmodel.models import (
    TERMINAL,
    Composition,
    CompositionEvent,
    CompositionStage,
    Revision,
)
from readmodel.voices import project_voice
from readmodel.sets import project_set

PUBLIC_EVENTS = (CompositionProgressed, CompositionCompleted, CompositionFailed, CompositionCancelled, RevisionDeleted)


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


def stage_artifacts(context: CompositionContext) -> list[dict[str, Any]]:
    """Every artifact a run's sections reference, with the stage that stored it (what deleting it means)."""
    found: dict[str, dict[str, Any]] = {}
    for stage in StageName:
        for artifact in artifacts_in(context.section(stage)):
            found.setdefault(artifact.uri, {**artifact.model_dump(mode="json"), "stage": stage.value})
    return list(found.values())


def summary(context: CompositionContext) -> dict[str, Any]:
    """What a user edits, from a context: the plan (key, mode, tempo, meter, form), chords and lyrics."""
    plan = context.plan
    return {
        "plan": None if plan is None else {
            "key": plan.key, "mode": plan.mode, "tempo_bpm": plan.tempo_bpm, "beats_per_bar": plan.beats_per_bar,
            "beat_unit": plan.beat_unit, "voice": plan.voice, "duration_s": plan.duration_s,
            "form": [{"name": f.name, "kind": f.kind, "bars": f.bars, "energy": f.energy, "vocals": f.vocals}
                     for f in plan.form]},
        "harmony": None if context.harmony is None else [
            {"section": s.section, "chords": [{"symbol": c.symbol, "start_beat": c.start_beat, "beats": c.beats}
                                              for c in s.chords]} for s in context.harmony.sections],
        "lyrics": None if context.lyrics is None else [
            {"section": s.section, "lines": [line.text for line in s.lines]} for s in context.lyrics.sections],
    }


def public_payload(event: Envelope) -> dict[str, Any]:
    """What the event stream shows of an event (the full context stays on Kafka)."""
    base = {"event_id": str(event.event_id), "composition_id": str(event.composition_id),
            "type": type(event).__name__, "occurred_at": event.occurred_at.isoformat(),
            "revision": getattr(event, "revision", 0)}
    if isinstance(event, RevisionDeleted):
        return {**base, "status": "deleted"}
    if isinstance(event, CompositionProgressed):
        return {**base, "progress": event.progress, "stage": event.stage.value, "status": event.status,
                "stages": [s.model_dump(mode="json") for s in event.stages]}
    if isinstance(event, CompositionCompleted):
        master = event.context.master
        return {**base, "progress": 1.0, "status": "completed", "duration_ms": event.duration_ms,
                "stages_run": [s.value for s in event.stages_run],
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


WorkflowProjection = Callable[[Session, Envelope, "str | None"], bool]

WORKFLOW_PROJECTIONS: dict[str, WorkflowProjection] = {
    "voice": project_voice,
    "set": project_set,
}
"""Where the lifecycle events of a workflow that is not a song go (its own tables), by workflow name."""


def project(session: Session, event: Envelope, source: str | None = None) -> bool:
    """Apply ``event`` to the read model in the caller's transaction; False if it was seen before
    (or it belongs to a workflow with no read model)."""
    flow = workflow_of(event)
    if flow not in SONG_WORKFLOWS:
        projection = WORKFLOW_PROJECTIONS.get(flow)
        return projection(session, event, source) if projection is not None else False
    payload = public_payload(event)
    revision = payload["revision"]
    stored = session.execute(
        insert(CompositionEvent)
        .values(event_id=event.event_id, composition_id=event.composition_id, tenant_id=event.tenant_id,
                type=type(event).__name__, occurred_at=event.occurred_at, payload=payload, source=source,
                revision=revision)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(CompositionEvent.seq)
    ).scalar_one_or_none()
    if stored is None:
        return False
    _ensure_composition(session, event)
    if isinstance(event, RevisionDeleted):
        session.execute(update(Revision).where(Revision.composition_id == event.composition_id,
                                               Revision.number == revision).values(deleted_at=event.occurred_at))
        return True
    _project_revision(session, event, payload)
    if revision == 0:
        _project_composition(session, event, payload)
    elif isinstance(event, CompositionCompleted):
        _becomes_current(session, event)
    return True


def _project_composition(session: Session, event: Envelope, payload: dict[str, Any]) -> None:
    """The composition's own run: its status, progress and stages; when it completes, its files."""
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
        changes.update(status="completed", progress=1.0, duration_ms=event.duration_ms, finished_at=event.occurred_at,
                       **_current(event))
    elif isinstance(event, (CompositionFailed, CompositionCancelled)):
        changes.update(_unsuccessful_end(event, payload))
    session.execute(
        update(Composition)
        .where(Composition.id == event.composition_id, Composition.status.not_in(TERMINAL))
        .values(**changes)
    )


def _current(event: CompositionCompleted) -> dict[str, Any]:
    """The columns of the composition that show its current revision."""
    master = event.context.master
    return {"current_revision": event.revision, "quality": master.metrics.model_dump(mode="json") if master else None,
            "artifacts": [a.model_dump(mode="json") for a in artifacts_of(event.context)],
            "request": event.context.request.model_dump(mode="json"), **summary(event.context)}


def _becomes_current(session: Session, event: CompositionCompleted) -> None:
    """A completed revision is the composition now (a later one may already be: never go back)."""
    session.execute(
        update(Composition)
        .where(Composition.id == event.composition_id, Composition.current_revision < event.revision)
        .values(updated_at=event.occurred_at, **_current(event))
    )


def _project_revision(session: Session, event: Envelope, payload: dict[str, Any]) -> None:
    """The run's own row: status, progress, its stages and, at the end, its files and quality."""
    number = payload["revision"]
    session.execute(
        insert(Revision)
        .values(composition_id=event.composition_id, number=number, tenant_id=event.tenant_id, status="accepted",
                created_at=event.occurred_at, updated_at=event.occurred_at)
        .on_conflict_do_nothing(index_elements=["composition_id", "number"])
    )
    changes: dict[str, Any] = {"updated_at": event.occurred_at}
    if isinstance(event, CompositionProgressed):
        changes.update(status="running", progress=event.progress, stages=payload["stages"])
    elif isinstance(event, CompositionCompleted):
        master = event.context.master
        changes.update(status="completed", progress=1.0, duration_ms=event.duration_ms, finished_at=event.occurred_at,
                       stages_run=[s.value for s in event.stages_run], artifacts=stage_artifacts(event.context),
                       quality=master.metrics.model_dump(mode="json") if master else None)
    elif isinstance(event, (CompositionFailed, CompositionCancelled)):
        changes.update(_unsuccessful_end(event, payload))
    session.execute(
        update(Revision)
        .where(Revision.composition_id == event.composition_id, Revision.number == number,
               Revision.status.not_in(TERMINAL))
        .values(**changes)
    )


def _ensure_composition(session: Session, event: Envelope) -> None:
    """Every composition gets its row when its first public event arrives (the projector writes them all)."""
    session.execute(
        insert(Composition)
        .values(id=event.composition_id, tenant_id=event.tenant_id, status="accepted", progress=0.0,
                created_at=event.occurred_at, updated_at=event.occurred_at)
        .on_conflict_do_nothing(index_elements=["id"])
    )


def _unsuccessful_end(event: CompositionFailed | CompositionCancelled, payload: dict[str, Any]) -> dict[str, Any]:
    """The columns a failed or cancelled run ends with (a composition's row and a revision's alike)."""
    if isinstance(event, CompositionFailed):
        return {"status": "failed", "error": {**payload["error"], "stage": payload["stage"]},
                "finished_at": event.occurred_at}
    return {"status": "cancelled", "error": {"code": "cancelled", "message": event.reason, "retryable": False},
            "finished_at": event.occurred_at}
