"""The stage worker's handler against an in-memory runner: results, deadlines, redelivery, compensation."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest

from composition.errors import InvalidInput
from composition.events import (
    CompensationRequested,
    Error,
    StageCompensated,
    StageCompleted,
    StageFailed,
    StageRequested,
)
from composition.models import CompositionContext, StageName
from infra.topics import STAGE_RESULTS, Topics
from stream_processors.stage.handler import StageHandler
from stream_processors.stage.outcome import StageOutcome
from tests.unit.composition.saga_fakes import T0, TENANT, Inputs, artifact, section

TOPICS = Topics("t.")


class MemoryRunner:
    """Runs a stage by filling its minimal section, or fails, or takes ``delay_s``; records every call."""

    def __init__(self, *, error: Error | None = None, delay_s: float = 0.0) -> None:
        self.error, self.delay_s = error, delay_s
        self.calls: list[tuple[StageName, str | None, dict | None]] = []
        self.compensated: list[tuple[StageName, list[str]]] = []

    async def run(self, stage, context: CompositionContext, namespace, hint, policies) -> StageOutcome:
        self.calls.append((stage, hint, policies))
        await asyncio.sleep(self.delay_s)
        now = time.time()
        if self.error is not None:
            return StageOutcome(provider=hint or "first", started_s=now, finished_s=now, error=self.error)
        filled = context.with_section(stage, section(stage))
        return StageOutcome(provider=hint or "first", started_s=now, finished_s=now + 0.01, context=filled,
                            artifacts=[artifact("stem.wav")])

    async def compensate(self, stage, artifacts) -> list[str]:
        self.compensated.append((stage, [a.uri for a in artifacts]))
        return [a.uri for a in artifacts]


def request(stage: StageName = StageName.PLAN, attempt: int = 1, deadline_s: float = 30) -> StageRequested:
    inputs = Inputs()
    return StageRequested(composition_id=inputs.composition_id, tenant_id=TENANT, stage=stage, attempt=attempt,
                          deadline_at=T0 + timedelta(seconds=deadline_s), provider_hint="backup",
                          context=CompositionContext(request=inputs.request))


def handler(runner, done=None, **kw) -> StageHandler:
    return StageHandler([StageName.PLAN, StageName.RENDER], runner, TOPICS, {} if done is None else done,
                        clock=lambda: T0, **kw)


def run(coro):
    return asyncio.run(coro)


def test_a_request_runs_on_the_hinted_provider_and_completes_once():
    runner, done = MemoryRunner(), {}
    h = handler(runner, done, policies=lambda: {"tempo:pop": {"fast": 1.0}})
    req = request()
    [out] = run(h.on_request(req, StageName.PLAN))
    assert out.topic == TOPICS.name(STAGE_RESULTS)
    assert isinstance(out.event, StageCompleted) and out.event.provider == "backup"
    assert out.event.context.plan is not None and out.event.artifacts[0].name == "stem.wav"
    assert runner.calls == [(StageName.PLAN, "backup", {"tempo:pop": {"fast": 1.0}})]
    assert run(h.on_request(req, StageName.PLAN)) == []  # redelivered: the result is already committed
    assert len(runner.calls) == 1


def test_policies_go_to_the_plan_stage_only():
    runner = MemoryRunner()
    h = handler(runner, policies=lambda: {"tempo:pop": {"slow": 1.0}})
    run(h.on_request(request(StageName.RENDER), StageName.RENDER))
    assert runner.calls == [(StageName.RENDER, "backup", None)]


def test_a_failure_is_reported_with_its_retryable_flag():
    error = Error(code="scripted", message="no", retryable=False)
    [out] = run(handler(MemoryRunner(error=error)).on_request(request(), StageName.PLAN))
    assert isinstance(out.event, StageFailed) and out.event.error == error


def test_work_past_the_deadline_and_grace_is_a_retryable_deadline_failure():
    h = handler(MemoryRunner(delay_s=0.5), deadline_grace_s=0.05)
    [out] = run(h.on_request(request(deadline_s=0.05), StageName.PLAN))
    assert isinstance(out.event, StageFailed)
    assert out.event.error.code == "deadline_exceeded" and out.event.error.retryable


def test_a_request_on_the_wrong_topic_is_poison():
    with pytest.raises(InvalidInput) as error:
        run(handler(MemoryRunner()).on_request(request(StageName.RENDER), StageName.PLAN))
    assert error.value.reason == "unexpected_message"


def test_compensation_of_our_stage_is_confirmed_and_of_another_is_left_alone():
    runner = MemoryRunner()
    h = handler(runner)
    inputs = Inputs()
    ours = CompensationRequested(composition_id=inputs.composition_id, tenant_id=TENANT, stage=StageName.RENDER,
                                 reason="cancelled", artifacts=[artifact("stem.wav")])
    [out] = run(h.on_compensation(ours))
    assert isinstance(out.event, StageCompensated) and out.event.deleted_artifacts == [artifact("stem.wav").uri]
    theirs = ours.model_copy(update={"stage": StageName.VOCALS})
    assert run(h.on_compensation(theirs)) == []
    assert runner.compensated == [(StageName.RENDER, [artifact("stem.wav").uri])]


def queued_request(queue_s: float, run_s: float) -> StageRequested:
    """As the saga sends it: to start within ``queue_s``, then ``run_s`` for the work."""
    return request(deadline_s=queue_s + run_s).model_copy(update={"run_s": run_s})


def test_a_started_attempt_says_so_at_once_and_its_clock_is_its_own_run_time():
    started = []
    h = handler(MemoryRunner(delay_s=0.2), started=started.append, deadline_grace_s=0.0)
    [out] = run(h.on_request(queued_request(queue_s=0.0, run_s=0.05), StageName.PLAN))
    assert len(started) == 1 and started[0].started_at == T0 and started[0].attempt == 1
    assert started[0].provider == "backup" and started[0].stage is StageName.PLAN
    assert isinstance(out.event, StageFailed) and out.event.error.code == "deadline_exceeded"
    [ok] = run(handler(MemoryRunner(delay_s=0.01)).on_request(queued_request(queue_s=600, run_s=5), StageName.PLAN))
    assert isinstance(ok.event, StageCompleted)


def test_a_request_that_waited_past_the_time_it_could_finish_is_not_started():
    runner, started = MemoryRunner(), []
    late = queued_request(queue_s=10, run_s=30)
    h = StageHandler([StageName.PLAN], runner, TOPICS, {}, started=started.append,
                     clock=lambda: T0 + timedelta(seconds=11))
    [out] = run(h.on_request(late, StageName.PLAN))
    assert isinstance(out.event, StageFailed) and out.event.error.code == "queue_timeout" and out.event.error.retryable
    assert runner.calls == [] and started == []


def test_a_purged_composition_s_finished_attempts_are_forgotten_for_our_stages_only():
    from composition.events import CompositionPurged

    runner, done = MemoryRunner(), {}
    h = handler(runner, done)
    first = request(attempt=1)
    run(h.on_request(first, StageName.PLAN))
    run(h.on_request(first.model_copy(update={"attempt": 2}), StageName.PLAN))
    other = f"{first.composition_id}:harmony:1".encode()  # another worker's stage, same table in a test
    done[other] = b"1"
    purged = CompositionPurged(composition_id=first.composition_id, tenant_id=TENANT,
                               attempts={"plan": 3, "harmony": 1})
    assert run(h.on_compensation(purged)) == []
    assert done == {other: b"1"}
    assert run(h.on_request(first, StageName.PLAN))  # (only a replay could ask again: it would run)
