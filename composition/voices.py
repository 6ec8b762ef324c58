"""The voice workflow's domain: a voice profile made from the user's own recording.

A tenant uploads a recording of their own singing or speech (with their consent that the voice is
theirs or theirs to use); the ``voice_analyse`` stage measures it into a :class:`VoiceProfile`
(``composition.models``) and refuses recordings it cannot use, naming the problem; ``voice_preview``
sings a short phrase with it. The run's id (the saga's key) is the voice's id.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from composition.errors import InvalidInput
from composition.models import Artifact, Frozen, StageName, VoiceProfile, WorkContext


class VoiceRequest(Frozen):
    """A recording to make a voice profile of."""

    name: str = Field(min_length=1, max_length=80)
    recording: Artifact  # the uploaded audio, in the artifact store under the voice's id
    consent: bool

    @field_validator("consent")
    @classmethod
    def _consented(cls, value: bool) -> bool:
        if not value:
            raise InvalidInput("consent must be true: the voice is yours or you have the right to use it",
                               field="consent")
        return value


class VoiceAnalysisSection(Frozen):
    profile: VoiceProfile
    duration_s: float = Field(ge=0)  # the recording's length after trimming silence
    voiced_share: float = Field(ge=0, le=1)  # frames with a pitch, of the trimmed recording
    recording: Artifact | None = None  # what it was measured from: a compensated run deletes it


class VoicePreviewSection(Frozen):
    audio: Artifact  # a short phrase sung with the profile
    duration_s: float = Field(ge=0)


class VoiceContext(WorkContext):
    """A voice run's request plus its sections so far."""

    STAGE_FIELDS: ClassVar[dict[StageName, str]] = {StageName.VOICE_ANALYSE: "analysis",
                                                     StageName.VOICE_PREVIEW: "preview"}

    request: VoiceRequest
    analysis: VoiceAnalysisSection | None = None
    preview: VoicePreviewSection | None = None
