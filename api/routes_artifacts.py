"""GET /api/v2/compositions/{id}/artifacts/{name}: a finished composition's files, with Range support."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse

from api.deps import SessionDep, TenantDep
from api.problems import not_found
from api.routes_compositions import PREFIX, PROBLEMS
from readmodel import queries
from storage.local import LocalArtifactStore

router = APIRouter(prefix=PREFIX, tags=["artifacts"])


@router.get("/{composition_id}/artifacts/{name}", response_class=FileResponse, summary="Download an artifact",
            responses={200: {"content": {"application/octet-stream": {}}, "description": "the file (or the range asked for)"},
                       206: {"description": "the requested byte range"},
                       **{k: v for k, v in PROBLEMS.items() if k in (401, 404)}})
def artifact(composition_id: uuid.UUID, name: Annotated[str, Path(max_length=200)], request: Request,
             tenant: TenantDep, session: SessionDep) -> FileResponse:
    """Audio, MIDI and lyrics of a completed composition; ``Range: bytes=a-b`` answers 206."""
    row = queries.composition(session, tenant.id, composition_id)
    if row is None:
        raise not_found()
    found = next((a for a in row.artifacts or [] if a["name"] == name), None)
    if found is None:
        raise not_found("artifact")
    store: LocalArtifactStore = request.app.state.store
    path = store.path(found["uri"])
    if not path.is_file():  # removed by a compensation or a cleanup
        raise not_found("artifact")
    return FileResponse(path, media_type=found["media_type"], filename=name,
                        headers={"ETag": f'"{found["sha256"]}"', "Cache-Control": "private, max-age=31536000, immutable"})
