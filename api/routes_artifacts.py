"""GET /api/v2/compositions/{id}/artifacts/{name}: a finished composition's files, with Range support.

The bytes come from the artifact store (``composition.artifacts.ArtifactStore``, whichever adapter
the process runs), streamed in chunks; a ``Range: bytes=...`` header answers 206 with that part. With
``CADENZA_API_ARTIFACT_REDIRECT=1`` and a store that hands out pre-signed URLs (S3), the answer is a
307 to one instead, valid ``CADENZA_API_ARTIFACT_URL_TTL_S``; the store serves the Range itself.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Header, Path
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from api.deps import SessionDep, SettingsDep, StoreDep, TenantDep
from api.problems import Problem
from api.routes_compositions import PREFIX, PROBLEMS
from composition.artifacts import ArtifactNotFound, ArtifactStore
from composition.errors import NotFound
from service import queries

router = APIRouter(prefix=PREFIX, tags=["artifacts"])
CHUNK = 1 << 20
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (start, end) a single-range header asks for; None for the whole; 416 if unsatisfiable."""
    if header is None:
        return None
    match = _RANGE.match(header.strip())
    if not match or (not match[1] and not match[2]):
        return None  # not a form we serve: the whole file (RFC 9110 allows ignoring Range)
    if match[1]:
        start, end = int(match[1]), int(match[2]) if match[2] else size - 1
    else:
        start, end = max(0, size - int(match[2])), size - 1
    if start >= size or start > end:
        raise Problem(416, f"range {header} is outside the file's {size} bytes", kind="range-not-satisfiable",
                      headers={"Content-Range": f"bytes */{size}"})
    return start, min(end, size - 1)


def _chunks(store: ArtifactStore, uri: str, start: int, end: int) -> Iterator[bytes]:
    position = start
    while position <= end:
        last = min(end, position + CHUNK - 1)
        yield store.get_range(uri, position, last)
        position = last + 1


DOWNLOAD = {200: {"content": {"application/octet-stream": {}}, "description": "the file (or the range asked for)"},
            206: {"description": "the requested byte range"}, 416: {"description": "the range lies outside the file"},
            307: {"description": "a pre-signed URL of the object store (CADENZA_API_ARTIFACT_REDIRECT)"},
            **{k: v for k, v in PROBLEMS.items() if k in (401, 404)}}


@router.get("/{composition_id}/artifacts/{name}", response_class=StreamingResponse, summary="Download an artifact",
            responses=DOWNLOAD)
def artifact(composition_id: uuid.UUID, name: Annotated[str, Path(max_length=200)], tenant: TenantDep,
             session: SessionDep, store: StoreDep, settings: SettingsDep,
             range_header: Annotated[str | None, Header(alias="Range")] = None) -> Response:
    """Audio, MIDI and lyrics of the composition's current revision; ``Range: bytes=a-b`` answers 206."""
    row = queries.composition(session, tenant.id, composition_id)
    if row is None:
        raise NotFound("composition")
    return serve(store, next((a for a in row.artifacts if a["name"] == name), None), range_header,
                 redirect_ttl_s=settings.artifact_url_ttl_s if settings.artifact_redirect else None)


def serve(store: ArtifactStore, found: dict | None, range_header: str | None,
          redirect_ttl_s: int | None = None) -> Response:
    """Stream one stored artifact (a read model entry: name, uri, sha256, media_type), or a part of it; with
    ``redirect_ttl_s``, a 307 to a pre-signed URL of the store instead, where the store has them."""
    if found is None:
        raise NotFound("artifact")
    name = found["name"]
    try:
        if redirect_ttl_s and (url := store.presigned_url(found["uri"], redirect_ttl_s)):
            return RedirectResponse(url, status_code=307, headers={"Cache-Control": "private, no-store"})
        size = store.size(found["uri"])
    except ArtifactNotFound:  # removed by a compensation or a cleanup
        raise NotFound("artifact") from None
    headers = {"ETag": f'"{found["sha256"]}"', "Cache-Control": "private, max-age=31536000, immutable",
               "Accept-Ranges": "bytes", "Content-Disposition": f'attachment; filename="{name}"'}
    wanted = byte_range(range_header, size)
    start, end = wanted if wanted is not None else (0, size - 1)
    headers["Content-Length"] = str(end - start + 1 if size else 0)
    if wanted is not None:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    body = _chunks(store, found["uri"], start, end) if size else iter([b""])
    return StreamingResponse(body, status_code=206 if wanted is not None else 200, media_type=found["media_type"],
                             headers=headers)
