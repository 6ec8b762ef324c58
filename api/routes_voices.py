"""/api/v2/voices: upload a recording of your own voice for a voice profile, follow it, hear its
preview, delete it. A ready profile's id is a ``voice`` for compositions and revisions.

Another tenant's voice is 404 everywhere (here, and as the ``voice`` of a composition or revision);
one of your own that is not ready yet is a 422 naming ``voice`` there.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Header, Request, Response, UploadFile
from pydantic import BaseModel, Field

from api.deps import SessionDep, SettingsDep, StoreDep, TenantDep, WriterDep
from api.problems import Problem
from api.routes_artifacts import DOWNLOAD, serve
from api.routes_compositions import PROBLEMS
from composition.errors import NotFound
from readmodel.voices import Voice, voice_of, voices_of
from service.voices import Voices

PREFIX = "/api/v2/voices"
router = APIRouter(prefix=PREFIX, tags=["voices"])
VoiceStatus = Literal["accepted", "running", "cancelling", "ready", "failed", "cancelled"]


class VoiceLinks(BaseModel):
    self: str
    preview: str | None = None


class VoiceAcceptedPublic(BaseModel):
    id: uuid.UUID
    status: VoiceStatus
    links: VoiceLinks


class VoiceSummary(BaseModel):
    id: uuid.UUID
    name: str
    status: VoiceStatus
    progress: float
    created_at: datetime
    updated_at: datetime


class VoicePublic(VoiceSummary):
    profile: dict[str, Any] | None = Field(description="the measured voice (range, formants, envelope, tilt, "
                                           "brightness, vibrato, breathiness), when ready")
    analysis: dict[str, Any] | None = Field(description="the recording's voice after trimming silence: "
                                            "duration_s and voiced_share")
    error: dict[str, Any] | None = Field(description="why the analysis failed: code (not_audio, too_short, too_long, "
                                         "mostly_silence, clipped, no_voiced_frames, several_voices) and message")
    finished_at: datetime | None
    links: VoiceLinks


class VoicePage(BaseModel):
    items: list[VoiceSummary]


def _links(voice: Voice) -> VoiceLinks:
    return VoiceLinks(self=f"{PREFIX}/{voice.id}", preview=f"{PREFIX}/{voice.id}/preview" if voice.preview else None)


def _status(voice: Voice) -> str:
    if voice.status == "completed":
        return "ready"
    if voice.cancel_requested_at is not None and voice.status in ("accepted", "running"):
        return "cancelling"
    return voice.status


def _summary(voice: Voice) -> dict[str, Any]:
    return {"id": voice.id, "name": voice.name, "status": _status(voice), "progress": voice.progress,
            "created_at": voice.created_at, "updated_at": voice.updated_at}


def _voices(request: Request) -> Voices:
    return request.app.state.voices


@router.post("", status_code=202, response_model=VoiceAcceptedPublic, responses={**PROBLEMS, 413: PROBLEMS[422]},
             summary="Upload a recording of your voice for a voice profile")
async def add_voice(request: Request, response: Response, tenant: WriterDep, settings: SettingsDep,
                    audio: Annotated[UploadFile, File(description="your own singing or speech: WAV, FLAC or MP3, "
                                                      "5 to 120 s of voice")],
                    name: Annotated[str, Form(min_length=1, max_length=80)],
                    consent: Annotated[bool, Form(description="true: the voice is yours or you have the right "
                                                  "to use it")]) -> VoiceAcceptedPublic:
    """Accept the recording (202) for the ``voice`` workflow: analysis, then a preview sung with it."""
    data = await audio.read(settings.voice_max_bytes + 1)
    if len(data) > settings.voice_max_bytes:
        raise Problem(413, f"the recording is larger than {settings.voice_max_bytes} bytes", kind="too-large")
    accepted = _voices(request).add(tenant, name=name, consent=consent, data=data,
                                    traceparent=request.headers.get("traceparent"))
    response.headers["Location"] = f"{PREFIX}/{accepted.id}"
    return VoiceAcceptedPublic(id=accepted.id, status=accepted.status, links=VoiceLinks(self=f"{PREFIX}/{accepted.id}"))


@router.get("", response_model=VoicePage, responses=PROBLEMS, summary="Your voice profiles")
def list_voices(tenant: TenantDep, session: SessionDep) -> VoicePage:
    return VoicePage(items=[VoiceSummary(**_summary(v)) for v in voices_of(session, tenant.id)])


@router.get("/{voice_id}", response_model=VoicePublic, responses=PROBLEMS, summary="A voice profile")
def get_voice(voice_id: uuid.UUID, tenant: TenantDep, session: SessionDep) -> VoicePublic:
    voice = voice_of(session, tenant.id, voice_id)
    if voice is None:
        raise NotFound("voice")
    return VoicePublic(**_summary(voice), profile=voice.profile, analysis=voice.analysis, error=voice.error,
                       finished_at=voice.finished_at, links=_links(voice))


@router.get("/{voice_id}/preview", responses=DOWNLOAD, summary="Hear the preview sung with the profile")
def preview(voice_id: uuid.UUID, tenant: TenantDep, session: SessionDep, store: StoreDep, settings: SettingsDep,
            range_header: Annotated[str | None, Header(alias="Range")] = None) -> Response:
    voice = voice_of(session, tenant.id, voice_id)
    if voice is None:
        raise NotFound("voice")
    return serve(store, voice.preview, range_header,
                 redirect_ttl_s=settings.artifact_url_ttl_s if settings.artifact_redirect else None)


@router.post("/{voice_id}/cancel", status_code=202, responses={**PROBLEMS, 409: PROBLEMS[422]},
             summary="Cancel a voice analysis")
def cancel_voice(voice_id: uuid.UUID, request: Request, tenant: WriterDep) -> dict[str, Any]:
    status = _voices(request).cancel(tenant, voice_id, traceparent=request.headers.get("traceparent"))
    return {"id": str(voice_id), "status": status}


@router.delete("/{voice_id}", status_code=204, responses=PROBLEMS, summary="Delete a voice profile")
def delete_voice(voice_id: uuid.UUID, request: Request, tenant: WriterDep) -> Response:
    """Deletes the recording, the profile and the preview; songs already sung with it keep their audio."""
    _voices(request).delete(tenant, voice_id, traceparent=request.headers.get("traceparent"))
    return Response(status_code=204)
