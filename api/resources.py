"""The API's request and response bodies (separate from the domain: ``XCreate`` in, ``XPublic`` out).

Enumerations come from the domain's constants, so the OpenAPI document lists the genres, moods and
voices the engine knows; the domain model (CompositionRequest) still makes the final judgement.
"""

from __future__ import annotations

import uuid
from copy import copy
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from composition.controls import METERS
from composition.models import (
    GENRES,
    MAX_GENRES,
    MOOD_LABELS,
    VOICES,
    Arousal,
    CompositionRequest,
    StageName,
    Valence,
    Weight,
)

GenreName = Literal[GENRES]  # type: ignore[valid-type]
StageNameIn = Literal[tuple(s.value for s in StageName)]  # type: ignore[valid-type]
MoodLabel = Literal[tuple(MOOD_LABELS)]  # type: ignore[valid-type]
VoiceName = Literal[VOICES]  # type: ignore[valid-type]
ProfileId = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$",
                                 description="the id of one of your ready voice profiles (/api/v2/voices)")]
Status = Literal["accepted", "running", "cancelling", "completed", "failed", "cancelled"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MoodIn(Strict):
    valence: Valence
    arousal: Arousal


class GenreWeightIn(Strict):
    genre: GenreName
    weight: Weight


class _CompositionBody(Strict):
    """A composition request. ``mood`` is a label or valence/arousal; genre weights must sum to 1."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "mood": "happy", "genres": [{"genre": "pop", "weight": 0.7}, {"genre": "funk", "weight": 0.3}],
        "theme": "a summer road trip", "duration_s": 60, "voice": "alto", "instrumental": False, "seed": 42,
        "title": "Open Road", "bpm": 112, "key": "A major", "meter": "4/4"}]})


_API_TYPES: dict[str, tuple[Any, Any]] = {
    "mood": (MoodLabel | MoodIn, ...),
    "genres": (list[GenreWeightIn], Field(min_length=1, max_length=MAX_GENRES)),
    "voice": (VoiceName | ProfileId, "alto"),
    "meter": (Literal[tuple(METERS)] | None, None),  # type: ignore[valid-type]
}
"""Where the API body differs from the domain request: names it can list in its OpenAPI document."""

CompositionCreate = create_model(
    "CompositionCreate", __base__=_CompositionBody, __module__=__name__,
    **{name: _API_TYPES.get(name, (info.annotation, copy(info))) for name, info in CompositionRequest.model_fields.items()
       if name != "voice_profile"},  # the API fills it in from the named voice profile
)
"""The body of POST /compositions: the domain's request field for field (the same constraints), with
API-facing types where the OpenAPI document should list the choices."""


class Links(BaseModel):
    self: str
    events: str
    revisions: str | None = None


class CompositionAccepted(BaseModel):
    id: uuid.UUID
    status: Status
    links: Links


class StagePublic(BaseModel):
    stage: str
    status: str
    attempt: int
    provider: str | None
    duration_ms: int | None
    updated_at: datetime


class ArtifactPublic(BaseModel):
    name: str
    media_type: str
    size_bytes: int
    sha256: str
    url: str


class CompositionPublic(BaseModel):
    id: uuid.UUID
    status: Status
    progress: float = Field(description="weighted share of the work done, 0..1 (from the saga)")
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    request: dict[str, Any] | None
    stages: list[StagePublic]
    quality: dict[str, Any] | None = Field(description="objective quality metrics of the master, when completed")
    artifacts: list[ArtifactPublic]
    error: dict[str, Any] | None
    duration_ms: int | None = Field(description="accepted to completed, in milliseconds")
    revision: int = Field(0, description="the current revision (0: as first composed); its files are served")
    plan: dict[str, Any] | None = Field(None, description="key, mode, tempo, meter and the form (each section's "
                                        "bars and energy) of the current revision")
    chords: list[dict[str, Any]] | None = Field(None, description="the chords of each section")
    lyrics: list[dict[str, Any]] | None = Field(None, description="the lines of each sung section")
    links: Links


class RevisionCreate(Strict):
    """Redo ``stage`` and every stage that depends on it, with ``changes`` to the request, e.g.
    ``{"stage": "vocals", "changes": {"voice": "tenor"}}``; the stages before it are kept as they are."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"stage": "lyrics", "changes": {"lyrics": "new words\nfor the old tune"}},
        {"stage": "vocals", "changes": {"voice": "tenor"}},
        {"stage": "melody", "changes": {"seed": 7}},
        {"stage": "master", "changes": {"mix": {"vocal_db": 2, "reverb": 0.3, "brightness": 0.1, "lufs": -12}}}]})

    stage: StageNameIn
    changes: dict[str, Any] = Field(description="request fields to change; which ones a stage takes: "
                                    "plan: mood, genres, theme, duration_s, seed, lyrics, voice, mix; harmony: seed; "
                                    "lyrics: lyrics, theme, seed, voice; melody: seed, voice; arrangement: genres, "
                                    "seed; vocals: voice; render: -; master: mix (and every later stage's)")


class RevisionLinks(BaseModel):
    self: str
    events: str


class RevisionAccepted(BaseModel):
    composition_id: uuid.UUID
    number: int
    status: str
    links: RevisionLinks


class RevisionPublic(BaseModel):
    composition_id: uuid.UUID
    number: int = Field(description="0 is the composition as first composed")
    status: str
    current: bool = Field(description="the composition's files are this revision's")
    stage: str | None = Field(description="the stage the revision redid (and what depends on it)")
    changes: dict[str, Any]
    progress: float
    stages: list[dict[str, Any]] = Field(description="each stage's state in this run ('kept': carried over)")
    stages_run: list[str]
    duration_ms: int | None
    quality: dict[str, Any] | None
    artifacts: list[ArtifactPublic]
    error: dict[str, Any] | None
    created_at: datetime
    finished_at: datetime | None
    deleted: bool
    links: RevisionLinks


class RevisionList(BaseModel):
    items: list[RevisionPublic]


class CompositionSummary(BaseModel):
    id: uuid.UUID
    status: Status
    progress: float
    theme: str | None
    created_at: datetime
    updated_at: datetime


class CompositionPage(BaseModel):
    items: list[CompositionSummary]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


class FeedbackCreate(Strict):
    rating: int = Field(ge=1, le=5)
    tags: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(default_factory=list, max_length=20)
    comment: str | None = Field(default=None, max_length=2000)


class Accepted(BaseModel):
    id: uuid.UUID
    status: str
    detail: str
