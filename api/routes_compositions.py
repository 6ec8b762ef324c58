"""/api/v2/compositions: submit, read, list, cancel, rate."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import ValidationError

from api.deps import CommandsDep, SessionDep, TenantDep, WriterDep
from api.problems import ProblemDetail, from_validation_error
from api.resources import (
    Accepted,
    ArtifactPublic,
    CompositionAccepted,
    CompositionCreate,
    CompositionPage,
    CompositionPublic,
    CompositionSummary,
    FeedbackCreate,
    Links,
    StagePublic,
    Status,
)
from composition.errors import InvalidInput, NotFound
from composition.models import CompositionRequest, Mood, VoiceProfile
from readmodel import queries as readmodel
from service import queries
from service.voices import ready_profile

PREFIX = "/api/v2/compositions"
router = APIRouter(prefix=PREFIX, tags=["compositions"])

PROBLEMS = {status: {"model": ProblemDetail, "content": {"application/problem+json": {}}}
            for status in (401, 404, 413, 422, 429)}


def links(composition_id: uuid.UUID) -> Links:
    return Links(self=f"{PREFIX}/{composition_id}", events=f"{PREFIX}/{composition_id}/events",
                 revisions=f"{PREFIX}/{composition_id}/revisions")


def to_domain(body: CompositionCreate, voice_profile: VoiceProfile | None = None) -> CompositionRequest:
    """The API body as the domain's request (with the measured profile its ``voice`` names, if one);
    the domain's rules answer 422 naming the field."""
    data = {**body.model_dump(), "voice_profile": voice_profile}
    try:
        data["mood"] = Mood.from_label(body.mood) if isinstance(body.mood, str) else Mood(**data["mood"])
        return CompositionRequest(**data)
    except ValidationError as exc:
        raise from_validation_error(exc, ("body",)) from None


@router.post("", status_code=202, response_model=CompositionAccepted, responses=PROBLEMS,
             summary="Submit a composition request")
def submit(body: CompositionCreate, request: Request, response: Response, tenant: WriterDep,
           commands: CommandsDep, session: SessionDep,
           idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200)] = None) -> CompositionAccepted:
    """Accept the request (202) and queue it for the pipeline; ``Location`` names the composition.

    The same ``Idempotency-Key`` from the same tenant returns the same composition.
    """
    profile = ready_profile(session, tenant.id, body.voice)  # another tenant's voice: 404, as everywhere
    result = commands.submit(tenant, to_domain(body, profile), idempotency_key=idempotency_key,
                             traceparent=request.headers.get("traceparent"))
    response.headers["Location"] = f"{PREFIX}/{result.id}"
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return CompositionAccepted(id=result.id, status=result.status, links=links(result.id))


@router.get("", response_model=CompositionPage, responses=PROBLEMS, summary="The tenant's compositions")
def list_compositions(tenant: TenantDep, session: SessionDep,
                      status: Annotated[list[Status] | None, Query(description="keep only these statuses")] = None,
                      limit: Annotated[int, Query(ge=1, le=100)] = 20,
                      cursor: Annotated[str | None, Query(max_length=200)] = None) -> CompositionPage:
    """Newest first, ``limit`` per page; follow ``next_cursor`` for more."""
    position = None
    if cursor:
        try:
            position = queries.decode_cursor(cursor)
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput("not a cursor this API handed out", field="cursor", reason="validation-error") from None
    rows, next_cursor = queries.page(session, tenant.id, statuses=status, limit=limit, cursor=position)
    items = [CompositionSummary(id=r.id, status=r.status, progress=r.progress,
                                theme=(r.request or {}).get("theme"), created_at=r.created_at,
                                updated_at=r.updated_at) for r in rows]
    return CompositionPage(items=items, next_cursor=next_cursor)


@router.get("/{composition_id}", response_model=CompositionPublic, responses=PROBLEMS,
            summary="A composition: status, progress, stages, quality, artifacts")
def get_composition(composition_id: uuid.UUID, tenant: TenantDep, session: SessionDep) -> CompositionPublic:
    row = queries.composition(session, tenant.id, composition_id)
    if row is None:
        raise NotFound("composition")
    stages = [StagePublic(stage=s.stage, status=s.status, attempt=s.attempt, provider=s.provider,
                          duration_ms=s.duration_ms, updated_at=s.updated_at)
              for s in readmodel.stages(session, composition_id)]
    artifacts = [ArtifactPublic(name=a["name"], media_type=a["media_type"], size_bytes=a["size_bytes"],
                                sha256=a["sha256"], url=f"{PREFIX}/{composition_id}/artifacts/{a['name']}")
                 for a in row.artifacts]
    return CompositionPublic(id=row.id, status=row.status, progress=row.progress, created_at=row.created_at,
                             updated_at=row.updated_at, finished_at=row.finished_at, request=row.request,
                             stages=stages, quality=row.quality, artifacts=artifacts, error=row.error,
                             duration_ms=row.duration_ms, revision=row.revision, plan=row.plan, chords=row.harmony,
                             lyrics=row.lyrics, links=links(row.id))


@router.post("/{composition_id}/cancel", status_code=202, response_model=Accepted,
             responses={**PROBLEMS, 409: PROBLEMS[422]}, summary="Cancel a composition")
def cancel(composition_id: uuid.UUID, request: Request, tenant: WriterDep, commands: CommandsDep) -> Accepted:
    """Ask the pipeline to stop and undo what it did; the event stream tells when it is cancelled."""
    status = commands.cancel(tenant, composition_id, traceparent=request.headers.get("traceparent"))
    return Accepted(id=composition_id, status=status, detail="cancel requested")


@router.post("/{composition_id}/feedback", status_code=202, response_model=Accepted,
             responses={**PROBLEMS, 409: PROBLEMS[422]}, summary="Rate a completed composition")
def feedback(composition_id: uuid.UUID, body: FeedbackCreate, request: Request, tenant: WriterDep,
             commands: CommandsDep) -> Accepted:
    """Published as FeedbackSubmitted on compositions.feedback (read by the feedback/RL consumer)."""
    commands.feedback(tenant, composition_id, rating=body.rating, tags=body.tags, comment=body.comment,
                      traceparent=request.headers.get("traceparent"))
    return Accepted(id=composition_id, status="accepted", detail="feedback recorded")
