"""GET /api/v2/compositions/{id}/events: the composition's progress as Server-Sent Events.

The stream is read from the read model (the projector stores every public event once, with a
sequence number), so it survives API restarts and is resumable: the SSE ``id`` is that sequence
number and a client reconnecting with ``Last-Event-ID`` gets only what it has not seen. The stream
ends after the terminal event (completed, failed, cancelled).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api import sse
from api.deps import SettingsDep, TenantDep
from api.routes_compositions import PREFIX, PROBLEMS
from composition.errors import NotFound
from readmodel import queries as readmodel
from service import queries

router = APIRouter(prefix=PREFIX, tags=["compositions"])
TERMINAL_EVENTS = {"CompositionCompleted", "CompositionFailed", "CompositionCancelled"}


def event_stream(request: Request, settings, composition_id: uuid.UUID, start: int, revision: int) -> StreamingResponse:
    """Server-Sent Events of one run of a composition (0: the composition itself), from ``start`` to its end."""
    sessions = request.app.state.sessions

    def fetch(after_seq: int):
        with sessions() as session:
            return [(row.seq, row.type, row.payload)
                    for row in readmodel.events_after(session, composition_id, after_seq, revision=revision)]

    async def stream() -> AsyncIterator[bytes]:
        cursor, quiet_since = start, time.monotonic()
        yield sse.retry(2000)
        while True:
            rows = await run_in_threadpool(fetch, cursor)
            for seq, kind, payload in rows:
                cursor = seq
                yield sse.frame(payload, event=kind, event_id=seq)
                if kind in TERMINAL_EVENTS:
                    return
            if rows:
                quiet_since = time.monotonic()
                continue
            if await request.is_disconnected():
                return
            if time.monotonic() - quiet_since >= settings.sse_heartbeat_s:
                quiet_since = time.monotonic()
                yield sse.comment("keep-alive")
            await anyio.sleep(settings.sse_poll_s)

    return StreamingResponse(stream(), media_type=sse.MEDIA_TYPE,
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def resume_from(last_event_id: str | None, after: int | None) -> int:
    return sse.parse_last_event_id(last_event_id) if last_event_id is not None else (after or 0)


@router.get("/{composition_id}/events", summary="Progress and lifecycle events (Server-Sent Events)",
            response_class=StreamingResponse, responses={
                200: {"content": {sse.MEDIA_TYPE: {"schema": {"type": "string"}}},
                      "description": "an event stream; each event's data is JSON, its id resumes the stream"},
                **{k: v for k, v in PROBLEMS.items() if k in (401, 404)}})
async def events(composition_id: uuid.UUID, request: Request, tenant: TenantDep, settings: SettingsDep,
                 last_event_id: Annotated[str | None, Header(max_length=40)] = None,
                 after: Annotated[int | None, Query(ge=0, description="resume after this event id (for clients that cannot send Last-Event-ID)")] = None,
                 ) -> StreamingResponse:
    """The composition's own run (a revision has its own stream: .../revisions/{n}/events)."""
    sessions = request.app.state.sessions

    def owned() -> bool:
        with sessions() as session:
            return queries.owns(session, tenant.id, composition_id)

    if not await run_in_threadpool(owned):
        raise NotFound("composition")
    return event_stream(request, settings, composition_id, resume_from(last_event_id, after), revision=0)
