"""The generic stage worker: one agent per stage topic, the work in a process pool.

For each StageRequested it runs the stage through the provider router (off the event loop, so
heartbeats and transaction commits go on during a long render), then publishes StageCompleted or
StageFailed (with its retryable flag) in the same transaction that consumes the request. A table of
finished (composition, stage, attempt) makes a redelivered request a no-op; artifacts are content-
addressed, so even work repeated after a crash writes no second artifact. CompensationRequested for
its stages deletes the stage's artifacts and answers StageCompensated. A worker with the plan stage
follows the learned policies (compositions.policy) and hands them to the planner.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone

import faust

from composition.events import (
    CompensationRequested,
    Error,
    StageCompensated,
    StageCompleted,
    StageFailed,
    StageRequested,
    utcnow,
)
from composition.models import Artifact, CompositionContext, StageName
from infra.topics import COMPENSATIONS, DLQ, POLICY, STAGE_RESULTS, stage_requests, topic, topic_prefix
from stream_processors import metrics as m
from stream_processors import stage_runner
from stream_processors.faust_app import make_app, table_options
from stream_processors.inbox import Inbox, trace_of
from stream_processors.policy_follower import PolicyFollower
from stream_processors.settings import StageWorkerSettings

log = logging.getLogger(__name__)


def _ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(round(seconds, 3), timezone.utc)


def build(stages: Iterable[StageName], settings: StageWorkerSettings | None = None) -> faust.App:
    settings = settings or StageWorkerSettings()
    stages = tuple(StageName(s) for s in stages)
    label = "all" if set(stages) == set(StageName) else "-".join(s.value for s in stages)
    process = f"stage-{label}"
    app = make_app(f"{topic_prefix()}cadenza-{process}", settings)
    raw = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
    results, dlq = app.topic(topic(STAGE_RESULTS), **raw), app.topic(topic(DLQ), **raw)
    done = app.Table("stage-attempts-done", partitions=4, options=table_options(settings), key_type=bytes, value_type=bytes)
    inbox = Inbox(app, process, dlq)
    store_root = str(settings.artifact_dir)
    pool: dict[str, ProcessPoolExecutor] = {}
    # the planner's learned policies (feedback/RL), newest per name from the compacted policy topic
    follower = PolicyFollower(settings.bootstrap_servers, topic(POLICY)) if StageName.PLAN in stages else None

    def executor() -> ProcessPoolExecutor:
        if "pool" not in pool:
            pool["pool"] = ProcessPoolExecutor(settings.pool_size, mp_context=multiprocessing.get_context("spawn"))
        return pool["pool"]

    @app.task
    async def warm() -> None:
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(executor(), stage_runner.warm_up, settings.providers)
                               for _ in range(settings.pool_size)))

    async def handle_request(event: faust.EventT, stage: StageName) -> None:
        request = await inbox.decode(event)
        if request is None:
            return
        if not isinstance(request, StageRequested) or request.stage != stage:
            await inbox.dead_letter(event, "unexpected_message", f"{type(request).__name__} on {event.message.topic}")
            return
        key = f"{request.composition_id}:{stage.value}:{request.attempt}".encode()
        if done.get(key) is not None:
            return  # this attempt's result is already committed
        loop = asyncio.get_running_loop()
        timeout = (request.deadline_at - utcnow()).total_seconds() + settings.deadline_grace_s
        policies = follower.as_json() if follower is not None and stage is StageName.PLAN else None
        future = loop.run_in_executor(executor(), stage_runner.run_stage, settings.providers, store_root,
                                      stage.value, request.context.model_dump_json(), str(request.composition_id),
                                      request.provider_hint, policies)
        try:
            outcome = await asyncio.wait_for(future, timeout=max(timeout, 0.001))
        except asyncio.TimeoutError:
            outcome = {"ok": False, "code": "deadline_exceeded", "retryable": True,
                       "message": f"{stage.value} did not finish before its deadline {request.deadline_at.isoformat()}",
                       "provider": request.provider_hint or "unknown"}
            outcome["started"] = outcome["finished"] = utcnow().timestamp()
        envelope = {"composition_id": request.composition_id, "tenant_id": request.tenant_id}
        if outcome["ok"]:
            result = StageCompleted(**envelope, stage=stage, attempt=request.attempt, provider=outcome["provider"],
                                    context=CompositionContext.model_validate_json(outcome["context"]),
                                    artifacts=[Artifact.model_validate_json(a) for a in outcome["artifacts"]],
                                    started_at=_ts(outcome["started"]), finished_at=_ts(outcome["finished"]))
        else:
            result = StageFailed(**envelope, stage=stage, attempt=request.attempt, provider=outcome["provider"],
                                 error=Error(code=outcome["code"], message=outcome["message"], retryable=outcome["retryable"]))
        m.STAGE_DURATION.labels(stage.value, outcome["provider"], "completed" if outcome["ok"] else "failed").observe(
            max(0.0, outcome["finished"] - outcome["started"]))
        done[key] = b"1"
        await inbox.publish(results, result, trace_of(event))

    def stage_agent(stage: StageName):
        source = app.topic(topic(stage_requests(stage)), **raw)

        async def agent(stream: faust.StreamT) -> None:
            async for event in stream.events():
                try:
                    await handle_request(event, stage)
                except (ValueError, TypeError) as exc:  # a result we cannot build: poison, not a crash
                    log.exception("stage %s could not process a request", stage.value)
                    await inbox.dead_letter(event, "processing_error", repr(exc))

        app.agent(source, name=f"stage-{stage.value}")(agent)

    for stage in stages:
        stage_agent(stage)

    @app.agent(app.topic(topic(COMPENSATIONS), **raw), name="compensations")
    async def compensations(stream: faust.StreamT) -> None:
        async for event in stream.events():
            request = await inbox.decode(event)
            if request is None:
                continue
            if not isinstance(request, CompensationRequested):
                await inbox.dead_letter(event, "unexpected_message", type(request).__name__)
                continue
            if request.stage not in stages:
                continue  # another worker's stage
            loop = asyncio.get_running_loop()
            deleted = await loop.run_in_executor(
                executor(), stage_runner.compensate, settings.providers, store_root, request.stage.value,
                [a.model_dump_json() for a in request.artifacts])
            m.COMPENSATIONS.labels(request.stage.value, "done").inc()
            await inbox.publish(results, StageCompensated(composition_id=request.composition_id,
                                                          tenant_id=request.tenant_id, stage=request.stage,
                                                          deleted_artifacts=deleted), trace_of(event))

    if follower is not None:
        @app.timer(interval=settings.tick_interval_s)
        async def follow_policies() -> None:
            follower.poll()

    @app.on_before_shutdown.connect
    async def shutdown_pool(app: faust.App, **_: object) -> None:
        if "pool" in pool:
            pool.pop("pool").shutdown(wait=False, cancel_futures=True)
        if follower is not None:
            follower.close()

    return app
