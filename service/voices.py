"""The API's voice profile commands: accept an upload, delete a voice, and find a tenant's ready
profile for a composition that names it.

An upload is checked (consent, name, that it is audio of a plausible length: ``music.voiceprint``'s
header check), stored in the artifact store under the voice's id, and accepted with its read-model
row and its VoiceRequested (outbox) in one transaction. Deleting removes the row, the recording and
the preview, and cancels a run still going (the saga compensates what it stored); songs already
sung with the voice keep their audio, which lives under their own ids.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session, sessionmaker

from composition.artifacts import ArtifactStore
from composition.errors import InvalidInput, NotFound
from composition.events import CancelRequested, VoiceRequested
from composition.models import Artifact, VoiceProfile, is_profile_id
from composition.voices import VoiceRequest
from infra.topics import CONTROL, REQUESTS, Topics
from music.errors import StageError
from music.voiceprint.recording import check_upload
from producers import outbox
from producers.tracing import child_of
from readmodel.models import TERMINAL
from readmodel.voices import Voice, voice_of
from service.cancel import request_cancel
from tenancy.keys import TenantInfo

MEDIA_TYPES = {"wav": "audio/wav", "flac": "audio/flac", "mp3": "audio/mpeg", "ogg": "audio/ogg"}
"""Media types of the formats named in the recording's artifact (others are stored as octet-stream)."""


class UploadRefused(InvalidInput):
    """An upload that cannot make a voice profile, named (``reason``: not_audio, too_short ...)."""

    def __init__(self, message: str, reason: str, field: str = "audio") -> None:
        super().__init__(message, field=field, reason=reason)


@dataclass(frozen=True)
class VoiceAccepted:
    id: uuid.UUID
    status: str


class Voices:
    """The voice writes of one API process."""

    def __init__(self, sessions: sessionmaker[Session], topics: Topics, store: ArtifactStore) -> None:
        self.sessions, self.topics, self.store = sessions, topics, store

    def add(self, tenant: TenantInfo, *, name: str, consent: bool, data: bytes,
            traceparent: str | None = None) -> VoiceAccepted:
        """Check, store and accept an upload (202); InvalidInput naming the field for bad input."""
        if not consent:
            raise InvalidInput("consent must be true: the voice is yours or you have the right to use it",
                               field="consent")
        name = " ".join(name.split())
        if not 1 <= len(name) <= 80:
            raise InvalidInput("name must be 1 to 80 characters", field="name")
        try:
            upload = check_upload(data)
        except StageError as exc:
            raise UploadRefused(exc.message, exc.code) from None
        voice_id = uuid.uuid4()
        ext = upload.format.lower()  # from the header: the file name can lie
        recording = self.store.put(str(voice_id), f"recording.{ext}", data,
                                   MEDIA_TYPES.get(ext, "application/octet-stream"))
        request = VoiceRequest(name=name, recording=recording, consent=True)
        try:
            with self.sessions() as session, session.begin():
                session.execute(insert(Voice).values(id=voice_id, tenant_id=tenant.id, name=name, status="accepted",
                                                     progress=0.0, recording=recording.model_dump(mode="json")))
                outbox.add(session, self.topics.name(REQUESTS),
                           VoiceRequested(composition_id=voice_id, tenant_id=tenant.id, request=request),
                           traceparent=child_of(traceparent))
        except Exception:
            self.store.delete(recording.uri)  # not accepted: keep nothing of the upload
            raise
        return VoiceAccepted(voice_id, "accepted")

    def delete(self, tenant: TenantInfo, voice_id: uuid.UUID, traceparent: str | None = None) -> None:
        """Delete the voice: its row (the profile), recording and preview; a running analysis is cancelled."""
        with self.sessions() as session, session.begin():
            voice = voice_of(session, tenant.id, voice_id, lock=True)
            if voice is None:
                raise NotFound("voice")
            artifacts = [Artifact.model_validate(a) for a in (voice.recording, voice.preview) if a]
            if voice.status not in TERMINAL:
                outbox.add(session, self.topics.name(CONTROL),
                           CancelRequested(composition_id=voice_id, tenant_id=tenant.id, reason="voice deleted"),
                           traceparent=child_of(traceparent))
            session.execute(delete(Voice).where(Voice.id == voice_id))
        for artifact in artifacts:
            self.store.delete(artifact.uri)

    def cancel(self, tenant: TenantInfo, voice_id: uuid.UUID, traceparent: str | None = None) -> str:
        """Stop a running analysis (the saga compensates what it stored); idempotent."""
        with self.sessions() as session, session.begin():
            voice = voice_of(session, tenant.id, voice_id, lock=True)
            if voice is None:
                raise NotFound("voice")
            return request_cancel(session, self.topics, voice, voice_id, tenant.id, what="voice", status=voice.status,
                                  reason="cancelled by user", traceparent=traceparent)


def ready_profile(session: Session, tenant_id: str, voice: str | None, field: str = "voice") -> VoiceProfile | None:
    """The measured profile a composition's ``voice`` names (None for a stock voice).

    Another tenant's, a deleted or an unknown voice is NotFound("voice") (404, as everywhere else);
    one of the tenant's that is not ready is InvalidInput naming ``field`` (422)."""
    if voice is None or not is_profile_id(voice):
        return None
    row = voice_of(session, tenant_id, uuid.UUID(voice))
    if row is None:
        raise NotFound("voice")
    if row.status != "completed" or row.profile is None:
        raise InvalidInput(f"voice profile {voice} is not ready (it is {row.status})", field=field,
                           reason="voice-not-ready")
    return VoiceProfile.model_validate(row.profile)
