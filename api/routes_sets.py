"""/api/v2/sets: DJ sets of the tenant's finished songs - build one, follow it, cancel it, download it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from api.deps import SessionDep, SettingsDep, StoreDep, TenantDep, WriterDep
from api.resources import Accepted, ArtifactPublic
from api.routes_artifacts import DOWNLOAD, serve
from api.routes_compositions import PROBLEMS
from service.sets import SetAsked, Sets, public_artifacts, status_of

PREFIX = "/api/v2/sets"
router = APIRouter(prefix=PREFIX, tags=["sets"])


def get_sets(request: Request) -> Sets:
    state = request.app.state
    return Sets(state.sessions, state.settings.topics, state.store)


SetsDep = Annotated[Sets, Depends(get_sets)]


class SetCreate(BaseModel):
    compositions: list[uuid.UUID] = Field(min_length=2, max_length=20,
                                          description="2 to 20 of the tenant's completed compositions")
    order: Literal["auto", "given"] = Field("auto", description="auto: harmonic mixing, tempo steps, an energy arc")
    transition_bars: int = Field(8, ge=1, le=32, description="bars each cross-fade lasts (fewer for short songs)")
    target_bpm: float | None = Field(None, ge=60, le=200, description="the set's tempo (default: the songs' median)")
    announcer: bool = Field(False, description="a short spoken line naming each next song, under its intro")


class SetAccepted(BaseModel):
    id: uuid.UUID
    status: str
    url: str


class TracklistPublic(BaseModel):
    position: int
    composition_id: uuid.UUID
    title: str
    start_s: float


class SetPublic(BaseModel):
    id: uuid.UUID
    status: str
    progress: float
    request: dict[str, Any] | None
    stages: list[dict[str, Any]]
    tracklist: list[TracklistPublic]
    artifacts: list[ArtifactPublic]
    result: dict[str, Any] | None = Field(None, description="measured: integrated_lufs, true_peak_dbtp, "
                                                            "beat_alignment_ms per transition, key_distances, tempo_bpm")
    error: dict[str, Any] | None
    duration_ms: int | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class SetPage(BaseModel):
    items: list[SetPublic]


def public(row) -> SetPublic:
    return SetPublic(id=row.id, status=status_of(row), progress=row.progress, request=row.request,
                     stages=row.stages or [], tracklist=row.tracklist or [],
                     artifacts=public_artifacts(row, PREFIX), result=row.result, error=row.error,
                     duration_ms=row.duration_ms, created_at=row.created_at, updated_at=row.updated_at,
                     finished_at=row.finished_at)


@router.post("", status_code=202, response_model=SetAccepted, responses=PROBLEMS, summary="Build a DJ set")
def submit(body: SetCreate, request: Request, response: Response, tenant: WriterDep, sets: SetsDep) -> SetAccepted:
    """Accept the set (202); a song that is not finished or no longer stored is a 422 naming it, another
    tenant's (or no) composition a 404."""
    set_id = sets.submit(tenant, SetAsked(**body.model_dump()), traceparent=request.headers.get("traceparent"))
    response.headers["Location"] = f"{PREFIX}/{set_id}"
    return SetAccepted(id=set_id, status="accepted", url=f"{PREFIX}/{set_id}")


@router.get("", response_model=SetPage, responses=PROBLEMS, summary="The tenant's DJ sets, newest first")
def list_sets(tenant: TenantDep, session: SessionDep, sets: SetsDep,
              limit: Annotated[int, Query(ge=1, le=100)] = 20) -> SetPage:
    return SetPage(items=[public(row) for row in sets.page(session, tenant, limit)])


@router.get("/{set_id}", response_model=SetPublic, responses=PROBLEMS,
            summary="A set: status, progress, tracklist, measurements, files")
def get_set(set_id: uuid.UUID, tenant: TenantDep, session: SessionDep, sets: SetsDep) -> SetPublic:
    return public(sets.get(session, tenant, set_id))


@router.post("/{set_id}/cancel", status_code=202, response_model=Accepted,
             responses={**PROBLEMS, 409: PROBLEMS[422]}, summary="Cancel a set")
def cancel(set_id: uuid.UUID, request: Request, tenant: WriterDep, sets: SetsDep) -> Accepted:
    """Stop the set and delete what it made so far."""
    status = sets.cancel(tenant, set_id, traceparent=request.headers.get("traceparent"))
    return Accepted(id=set_id, status=status, detail="cancel requested")


@router.get("/{set_id}/artifacts/{name}", response_class=StreamingResponse, responses=DOWNLOAD,
            summary="Download a set's file (set.flac, set.mp3, set.cue, tracklist.json)")
def artifact(set_id: uuid.UUID, name: Annotated[str, Path(max_length=200)], tenant: TenantDep, session: SessionDep,
             sets: SetsDep, store: StoreDep, settings: SettingsDep,
             range_header: Annotated[str | None, Header(alias="Range")] = None) -> Response:
    row = sets.get(session, tenant, set_id)
    return serve(store, next((a for a in row.artifacts or [] if a["name"] == name), None), range_header,
                 redirect_ttl_s=settings.artifact_url_ttl_s if settings.artifact_redirect else None)
