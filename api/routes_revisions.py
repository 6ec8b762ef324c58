"""/api/v2/compositions/{id}/revisions: revise a finished composition, follow, list, cancel, delete."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.deps import SessionDep, SettingsDep, StoreDep, TenantDep, WriterDep
from api.resources import (
    Accepted,
    ArtifactPublic,
    RevisionAccepted,
    RevisionCreate,
    RevisionLinks,
    RevisionList,
    RevisionPublic,
)
from api.routes_artifacts import DOWNLOAD, serve
from api.routes_compositions import PREFIX, PROBLEMS
from api.routes_events import event_stream, resume_from
from composition.errors import NotFound
from service.revisions import Revisions, RevisionView

router = APIRouter(prefix=PREFIX, tags=["revisions"])
RESPONSES = {**PROBLEMS, 409: PROBLEMS[422]}
Number = Annotated[int, Path(ge=0, le=100_000)]


def revisions(request: Request) -> Revisions:
    return request.app.state.revisions


def links(composition_id: uuid.UUID, number: int) -> RevisionLinks:
    base = f"{PREFIX}/{composition_id}/revisions/{number}"
    return RevisionLinks(self=base, events=f"{base}/events")


def public(view: RevisionView) -> RevisionPublic:
    base = f"{PREFIX}/{view.composition_id}/revisions/{view.number}/artifacts"
    files: dict[str, ArtifactPublic] = {}
    for a in view.artifacts:
        files.setdefault(a["name"], ArtifactPublic(name=a["name"], media_type=a["media_type"], size_bytes=a["size_bytes"],
                                                   sha256=a["sha256"], url=f"{base}/{a['name']}"))
    return RevisionPublic(composition_id=view.composition_id, number=view.number, status=view.status,
                          current=view.current, stage=view.stage, changes=view.changes, progress=view.progress,
                          stages=view.stages, stages_run=view.stages_run, duration_ms=view.duration_ms,
                          quality=view.quality, artifacts=[] if view.deleted else list(files.values()),
                          error=view.error, created_at=view.created_at, finished_at=view.finished_at,
                          deleted=view.deleted, links=links(view.composition_id, view.number))


@router.post("/{composition_id}/revisions", status_code=202, response_model=RevisionAccepted, responses=RESPONSES,
             summary="Revise a finished composition: one stage again, and what depends on it")
def revise(composition_id: uuid.UUID, body: RevisionCreate, request: Request, response: Response, tenant: WriterDep,
           idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200)] = None) -> RevisionAccepted:
    """Accept the revision (202, its number and a Location). 409 if the composition has not completed or
    another revision of it runs; 422 naming a change the stage does not take."""
    number, replayed = revisions(request).revise(tenant, composition_id, body.stage, body.changes,
                                                 idempotency_key=idempotency_key,
                                                 traceparent=request.headers.get("traceparent"))
    response.headers["Location"] = f"{PREFIX}/{composition_id}/revisions/{number}"
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return RevisionAccepted(composition_id=composition_id, number=number, status="accepted",
                            links=links(composition_id, number))


@router.get("/{composition_id}/revisions", response_model=RevisionList, responses=PROBLEMS,
            summary="Every revision of a composition (0: as first composed)")
def list_revisions(composition_id: uuid.UUID, request: Request, tenant: TenantDep, session: SessionDep) -> RevisionList:
    return RevisionList(items=[public(v) for v in revisions(request).list(session, tenant, composition_id)])


@router.get("/{composition_id}/revisions/{number}", response_model=RevisionPublic, responses=PROBLEMS,
            summary="One revision: status, stages run, timings, quality, files")
def get_revision(composition_id: uuid.UUID, number: Number, request: Request, tenant: TenantDep,
                 session: SessionDep) -> RevisionPublic:
    return public(revisions(request).get(session, tenant, composition_id, number))


@router.get("/{composition_id}/revisions/{number}/events", response_class=StreamingResponse, responses=PROBLEMS,
            summary="A revision's progress and end (Server-Sent Events)")
async def revision_events(composition_id: uuid.UUID, number: Number, request: Request, tenant: TenantDep,
                          settings: SettingsDep, last_event_id: Annotated[str | None, Header(max_length=40)] = None,
                          after: Annotated[int | None, Query(ge=0)] = None) -> StreamingResponse:
    def exists() -> None:
        with request.app.state.sessions() as session:
            revisions(request).get(session, tenant, composition_id, number)

    await run_in_threadpool(exists)
    return event_stream(request, settings, composition_id, resume_from(last_event_id, after), revision=number)


@router.get("/{composition_id}/revisions/{number}/artifacts/{name}", response_class=StreamingResponse,
            responses=DOWNLOAD, summary="Download a file of any kept revision")
def revision_artifact(composition_id: uuid.UUID, number: Number, name: Annotated[str, Path(max_length=200)],
                      request: Request, tenant: TenantDep, session: SessionDep, store: StoreDep,
                      range_header: Annotated[str | None, Header(alias="Range")] = None) -> StreamingResponse:
    view = revisions(request).get(session, tenant, composition_id, number)
    if view.deleted:
        raise NotFound("artifact")
    return serve(store, next((a for a in view.artifacts if a["name"] == name), None), range_header)


@router.post("/{composition_id}/revisions/{number}/cancel", status_code=202, response_model=Accepted,
             responses=RESPONSES, summary="Cancel a running revision (the composition stays as it was)")
def cancel_revision(composition_id: uuid.UUID, number: Number, request: Request, tenant: WriterDep) -> Accepted:
    status = revisions(request).cancel(tenant, composition_id, number, traceparent=request.headers.get("traceparent"))
    return Accepted(id=composition_id, status=status, detail=f"cancel of revision {number} requested")


@router.delete("/{composition_id}/revisions/{number}", status_code=202, response_model=Accepted, responses=RESPONSES,
               summary="Delete an earlier revision and its own files (not the current one)")
def delete_revision(composition_id: uuid.UUID, number: Number, request: Request, tenant: WriterDep) -> Accepted:
    revisions(request).delete(tenant, composition_id, number, traceparent=request.headers.get("traceparent"))
    return Accepted(id=composition_id, status="deleting", detail=f"revision {number} and its own files are deleted")
