"""The stage worker's handler: a StageRequested in, a StageCompleted or StageFailed out; a
CompensationRequested in, a StageCompensated out.

The work itself goes to a runner (the process pool in the process, an in-memory stand-in in unit
tests). When it starts, a StageStarted goes out at once (``started``, outside the transaction) so the
saga's deadline for the attempt counts from then; the work is bounded by the request's ``run_s`` plus a
grace, and a request that waited in the queue past the time it could still finish is not started. A
table of finished (composition, stage, attempt) makes a redelivered request a no-op; artifacts are
content-addressed, so even work repeated after a crash writes no second artifact. When the saga purges
a long-finished composition (CompositionPurged, on the compensations topic), its entries are deleted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, MutableMapping
from datetime import datetime, timedelta, timezone
from typing import Protocol

from composition.errors import InvalidInput
from composition.events import (
    CompensationRequested,
    CompositionPurged,
    Envelope,
    Error,
    StageCompensated,
    StageCompleted,
    StageFailed,
    StageRequested,
    StageStarted,
    utcnow,
)
from composition.models import Artifact, CompositionContext, StageName
from infra import tracing
from infra.topics import STAGE_RESULTS, Topics
from stream_processors import metrics as m
from stream_processors.inbox import Outgoing
from stream_processors.stage.outcome import StageOutcome


class StageRunner(Protocol):
    async def run(self, stage: StageName, context: CompositionContext, namespace: str, hint: str | None,
                  policies: dict[str, dict[str, float]] | None) -> StageOutcome: ...

    async def compensate(self, stage: StageName, artifacts: list[Artifact]) -> list[str]: ...


def namespace_of(request: StageRequested) -> str:
    """Where an attempt's artifacts go: the composition's namespace, or its revision's (a revision's
    compensation can then never delete what the composition's current revision still uses)."""
    return str(request.composition_id) if request.revision == 0 else f"{request.composition_id}.r{request.revision}"


def _instant(seconds: float) -> datetime:
    return datetime.fromtimestamp(round(seconds, 3), timezone.utc)


class StageHandler:
    """Runs the requests of ``stages`` and their compensations."""

    def __init__(self, stages: Iterable[StageName], runner: StageRunner, topics: Topics,
                 done: MutableMapping[bytes, bytes], *, deadline_grace_s: float = 1.0,
                 policies: Callable[[], dict[str, dict[str, float]]] | None = None,
                 started: Callable[[StageStarted], None] | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.stages = tuple(StageName(s) for s in stages)
        self.runner = runner
        self.results_topic = topics.name(STAGE_RESULTS)
        self.done = done
        self.deadline_grace_s = deadline_grace_s
        self.policies = policies
        self.started = started
        self.clock = clock

    async def on_request(self, request: Envelope, stage: StageName) -> list[Outgoing]:
        """Run one attempt of ``stage`` (the agent's topic) unless its result is already committed."""
        if not isinstance(request, StageRequested) or request.stage != stage:
            raise InvalidInput(f"{type(request).__name__} for {getattr(request, 'stage', '?')} on the {stage.value} "
                               f"requests topic", reason="unexpected_message")
        key = f"{request.composition_id}:{stage.value}:{request.attempt}".encode()
        if self.done.get(key) is not None:
            return []
        with tracing.span(f"attempt {stage.value} #{request.attempt}", **{
                "cadenza.stage": stage.value, "cadenza.attempt": request.attempt,
                "cadenza.provider_hint": request.provider_hint, "cadenza.composition_id": str(request.composition_id)}) as span:
            outcome = await self._attempt(request)
            span.set_attribute("cadenza.provider", outcome.provider)
            span.set_attribute("cadenza.outcome", "completed" if outcome.ok else "failed")
        envelope = {"composition_id": request.composition_id, "tenant_id": request.tenant_id}
        if outcome.ok:
            assert outcome.context is not None
            result: Envelope = StageCompleted(**envelope, stage=stage, attempt=request.attempt,
                                              provider=outcome.provider, context=outcome.context,
                                              artifacts=outcome.artifacts, started_at=_instant(outcome.started_s),
                                              finished_at=_instant(outcome.finished_s))
        else:
            assert outcome.error is not None
            result = StageFailed(**envelope, stage=stage, attempt=request.attempt, provider=outcome.provider,
                                 error=outcome.error)
        m.STAGE_DURATION.labels(stage.value, outcome.provider, "completed" if outcome.ok else "failed").observe(
            max(0.0, outcome.finished_s - outcome.started_s))
        self.done[key] = b"1"
        return [Outgoing(self.results_topic, result)]

    async def _attempt(self, request: StageRequested) -> StageOutcome:
        now = self.clock()
        if request.run_s > 0:
            if now > request.deadline_at - timedelta(seconds=request.run_s):
                return self._failure(request, now, "queue_timeout",
                                     f"{request.stage.value} waited in the queue until it could no longer finish "
                                     f"by {request.deadline_at.isoformat()}")
            timeout = request.run_s + self.deadline_grace_s
            if self.started is not None:
                self.started(StageStarted(composition_id=request.composition_id, tenant_id=request.tenant_id,
                                          stage=request.stage, attempt=request.attempt,
                                          provider=request.provider_hint or "unknown", started_at=now,
                                          revision=request.revision))
        else:
            timeout = (request.deadline_at - now).total_seconds() + self.deadline_grace_s
        policies = self.policies() if self.policies is not None and request.stage is StageName.PLAN else None
        try:
            return await asyncio.wait_for(
                self.runner.run(request.stage, request.context, namespace_of(request), request.provider_hint,
                                policies),
                timeout=max(timeout, 0.001))
        except asyncio.TimeoutError:
            return self._failure(request, now, "deadline_exceeded",
                                 f"{request.stage.value} did not finish within {timeout:.0f} s of starting")

    def _failure(self, request: StageRequested, started: datetime, code: str, message: str) -> StageOutcome:
        return StageOutcome(provider=request.provider_hint or "unknown", started_s=started.timestamp(),
                            finished_s=self.clock().timestamp(), error=Error(code=code, message=message, retryable=True))

    async def on_compensation(self, request: Envelope) -> list[Outgoing]:
        """Delete what one of our stages stored and confirm; another worker's stage is not ours to answer."""
        if isinstance(request, CompositionPurged):
            self._forget(request)
            return []
        if not isinstance(request, CompensationRequested):
            raise InvalidInput(f"{type(request).__name__} on the compensations topic", reason="unexpected_message")
        if request.stage not in self.stages:
            return []
        deleted = await self.runner.compensate(request.stage, request.artifacts)
        m.COMPENSATIONS.labels(request.stage.value, "done").inc()
        confirmed = StageCompensated(composition_id=request.composition_id, tenant_id=request.tenant_id,
                                     stage=request.stage, deleted_artifacts=deleted, revision=request.revision)
        return [Outgoing(self.results_topic, confirmed)]

    def _forget(self, purged: CompositionPurged) -> None:
        """Delete the finished-attempt entries of our stages of a purged composition (in this transaction)."""
        for stage in self.stages:
            for attempt in range(1, purged.attempts.get(stage.value, 0) + 1):
                key = f"{purged.composition_id}:{stage.value}:{attempt}".encode()
                if self.done.get(key) is not None:
                    del self.done[key]
                    m.PURGED_ATTEMPTS.labels(stage.value).inc()
