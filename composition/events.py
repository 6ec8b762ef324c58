"""Events (past tense) and commands (imperative) that travel on Cadenza's topics.

Every message carries the same envelope fields; the trace context travels as a Kafka header
(``traceparent``), not in the body. ``schemas/*.avsc`` mirrors these models one record per file and
``schemas/convert.py`` is the one place that turns them into Avro dicts and back.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Annotated, Literal, Union

from pydantic import AfterValidator, AwareDatetime, Field

from composition.contexts import AnyContext
from composition.models import Artifact, CompositionRequest, Frozen, StageName
from composition.sets import SetRequest
from composition.voices import VoiceRequest

SCHEMA_VERSION = 1


def utcnow() -> datetime:
    """Now, at the millisecond precision Avro's timestamp-millis keeps."""
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=(now.microsecond // 1000) * 1000)


def _to_millis(value: datetime) -> datetime:
    return value.astimezone(timezone.utc).replace(microsecond=(value.microsecond // 1000) * 1000)


Instant = Annotated[AwareDatetime, AfterValidator(_to_millis)]
"""A timezone-aware instant in UTC at millisecond precision: what Avro's timestamp-millis keeps."""


class Envelope(Frozen):
    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    composition_id: uuid.UUID
    tenant_id: str = Field(min_length=1, max_length=64)
    occurred_at: Instant = Field(default_factory=utcnow)
    schema_version: int = SCHEMA_VERSION


class Error(Frozen):
    code: str  # machine-readable, e.g. "provider_unavailable", "deadline_exceeded", "invalid_lyrics"
    message: str
    retryable: bool


# ---------------------------------------------------------------- into the saga


class CompositionRequested(Envelope):
    """A user's request was accepted (published by the API's outbox relay or the CLI)."""

    request: CompositionRequest


class VoiceRequested(Envelope):
    """A user's recording was accepted for a voice profile (the envelope's id is the voice's id)."""

    request: VoiceRequest


class SetRequested(Envelope):
    """A DJ set of finished songs was accepted (the envelope's id is the set's id)."""

    request: SetRequest


class CancelRequested(Envelope):
    reason: str = "cancelled by user"
    revision: int = Field(default=0, ge=0)  # the run to cancel: 0 the composition itself, n its revision n


class RevisionRequested(Envelope):
    """A revision of a finished composition was accepted: ``stage`` and what depends on it run again
    with ``request`` (the composition's request with the user's changes); the rest is kept."""

    revision: int = Field(ge=1)
    stage: StageName
    request: CompositionRequest
    changes: list[str] = Field(default_factory=list)  # the request fields the user changed


class StageArtifacts(Frozen):
    """The artifacts one stage stored (what its compensation deletes)."""

    stage: StageName
    artifacts: list[Artifact]


class RevisionDeleteRequested(Envelope):
    """Delete an earlier revision's own artifacts (never the current revision's, nor ones it still uses)."""

    revision: int = Field(ge=0)
    artifacts: list[StageArtifacts] = Field(default_factory=list)



class StageStarted(Envelope):
    """A worker began an attempt (sent at once, outside the worker's transaction): the attempt's
    deadline counts from here, so time spent waiting in the queue is not held against the work."""

    stage: StageName
    attempt: int = Field(ge=1)
    provider: str
    started_at: Instant
    revision: int = Field(default=0, ge=0)


class StageCompleted(Envelope):
    """A stage's work is done; ``context`` carries the stage's own section filled."""

    stage: StageName
    attempt: int = Field(ge=1)
    provider: str
    context: AnyContext
    artifacts: list[Artifact] = Field(default_factory=list)
    started_at: Instant
    finished_at: Instant


class StageFailed(Envelope):
    stage: StageName
    attempt: int = Field(ge=1)
    provider: str
    error: Error


class StageCompensated(Envelope):
    """A stage undid its side effects (deleted its artifacts, released what it reserved)."""

    stage: StageName
    deleted_artifacts: list[str] = Field(default_factory=list)  # URIs
    revision: int = Field(default=0, ge=0)  # the run whose compensation this answers (as requested)


# ---------------------------------------------------------------- from the saga to workers


class StageRequested(Envelope):
    """Command: run ``stage`` for this composition with the accumulated context."""

    stage: StageName
    attempt: int = Field(ge=1)
    deadline_at: Instant  # the latest it may end: a worker must start it by deadline_at - run_s
    run_s: float = Field(default=0.0, ge=0.0)  # how long the work may take once a worker starts it (0: to deadline_at)
    provider_hint: str | None = None  # the provider to run (the saga's choice from the stage's chain)
    context: AnyContext
    revision: int = Field(default=0, ge=0)  # which run of the composition (artifacts are kept apart per run)


class CompensationRequested(Envelope):
    """Command: undo ``stage``'s side effects for this composition."""

    stage: StageName
    reason: str
    artifacts: list[Artifact] = Field(default_factory=list)
    revision: int = Field(default=0, ge=0)  # the run whose artifacts these are


class CompositionPurged(Envelope):
    """Command: the saga dropped a long-finished composition's state (retention); each stage worker
    forgets its finished attempts of it. ``attempts`` is the last attempt number of each stage
    (attempt numbers go on across a composition's revisions, so 1..n covers every run)."""

    attempts: dict[str, int] = Field(default_factory=dict)


# ---------------------------------------------------------------- the public stream

StageStatus = Literal["pending", "running", "retrying", "completed", "failed", "compensating", "compensated", "skipped",
                      "kept"]
"""``kept``: a revision carries the stage's section over unchanged (it does not run)."""


class StageProgress(Frozen):
    stage: StageName
    status: StageStatus
    attempt: int = 0
    provider: str | None = None
    duration_ms: int | None = None


class CompositionProgressed(Envelope):
    progress: float = Field(ge=0.0, le=1.0)  # weighted completed work
    stage: StageName
    status: StageStatus
    stages: list[StageProgress]
    revision: int = Field(default=0, ge=0)
    workflow: str = "compose"  # compose and revise: a song; voice: a voice profile; set: a DJ set


class CompositionCompleted(Envelope):
    context: AnyContext
    duration_ms: int = Field(ge=0)  # accepted to completed
    revision: int = Field(default=0, ge=0)  # this revision is now the composition's current one
    stages_run: list[StageName] = Field(default_factory=list)  # what this run executed (the rest was kept)
    workflow: str = "compose"


class CompositionFailed(Envelope):
    error: Error
    stage: StageName | None
    compensated: list[StageName]
    compensation_timed_out: bool = False
    revision: int = Field(default=0, ge=0)  # a failed revision leaves the composition as it was
    workflow: str = "compose"


class CompositionCancelled(Envelope):
    reason: str
    compensated: list[StageName]
    compensation_timed_out: bool = False
    revision: int = Field(default=0, ge=0)
    workflow: str = "compose"


class RevisionDeleted(Envelope):
    """An earlier revision is gone: its own artifacts were asked to be deleted."""

    revision: int = Field(ge=0)


# ---------------------------------------------------------------- feedback


class FeedbackSubmitted(Envelope):
    rating: int = Field(ge=1, le=5)
    tags: list[str] = Field(default_factory=list, max_length=20)
    comment: str | None = Field(default=None, max_length=2000)


class PolicyUpdated(Envelope):
    """Learned preferences for the planner, keyed (on the compacted topic) by policy name."""

    policy: str
    weights: dict[str, float]
    samples: int = Field(ge=0)


Event = Union[
    CompositionRequested,
    VoiceRequested,
    SetRequested,
    CancelRequested,
    RevisionRequested,
    RevisionDeleteRequested,
    RevisionDeleted,
    StageStarted,
    StageCompleted,
    StageFailed,
    StageCompensated,
    StageRequested,
    CompensationRequested,
    CompositionPurged,
    CompositionProgressed,
    CompositionCompleted,
    CompositionFailed,
    CompositionCancelled,
    FeedbackSubmitted,
    PolicyUpdated,
]

EVENT_TYPES: dict[str, type[Envelope]] = {cls.__name__: cls for cls in Event.__args__}  # type: ignore[attr-defined]


SONG_WORKFLOWS = frozenset({"compose", "revise"})
"""The workflows whose runs are a song (the compositions read model, analytics and feedback read these)."""


def workflow_of(event: Envelope) -> str:
    """The workflow an event belongs to: its ``workflow`` field, or what its type starts."""
    if isinstance(event, VoiceRequested):
        return "voice"
    if isinstance(event, SetRequested):
        return "set"
    if isinstance(event, RevisionRequested):
        return "revise"
    return getattr(event, "workflow", "compose")


def of_a_song(event: Envelope) -> bool:
    return workflow_of(event) in SONG_WORKFLOWS
