"""The stage worker's faust wiring: one agent per stage topic, one for compensations, the pool warmed
at start, and (for the plan stage) the learned policies followed from the compacted policy topic.

Each stage agent runs as many requests at once as the pool has processes (faust's agent concurrency:
the offsets it commits stop at the first request still running, so a crash redelivers what was in
flight, and the finished-attempt table and content-addressed artifacts make that harmless). A
StageStarted goes straight to the results topic through a plain producer when work starts."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import faust

from composition.models import StageName
from infra.topics import COMPENSATIONS, STAGE_RESULTS
from producers.kafka_publisher import KafkaPublisher, PublishError
from stream_processors.faust_app import make_app, table
from stream_processors.inbox import RAW, Inbox
from stream_processors.policy_follower import PolicyFollower
from stream_processors.settings import StageWorkerSettings
from stream_processors.stage.handler import StageHandler
from stream_processors.stage.pool import PoolRunner

log = logging.getLogger(__name__)


def process_name(stages: tuple[StageName, ...]) -> str:
    label = "all" if set(stages) == set(StageName) else "-".join(s.value for s in stages)
    return f"stage-{label}"


POLICY_POLL_S = 2.0
"""How often a worker looks for a new learned policy (they change with feedback, not by the second)."""


def build(stages: Iterable[StageName], settings: StageWorkerSettings) -> faust.App:
    stages = tuple(StageName(s) for s in stages)
    topics = settings.topics
    process = process_name(stages)
    app = make_app(f"cadenza-{process}", settings)
    runner = PoolRunner(settings.providers, settings.engine_config, settings.store_config,
                        settings.pool_size, settings.trace_config)
    follower = PolicyFollower(settings.bootstrap_servers, topics, process) if StageName.PLAN in stages else None
    signals = KafkaPublisher(settings.bootstrap_servers, client_id=f"cadenza-{process}-signals")
    results = topics.name(STAGE_RESULTS)
    handler = StageHandler(stages, runner, topics, table(app, "stage-attempts-done", settings),
                           deadline_grace_s=settings.deadline_grace_s,
                           policies=follower.current if follower is not None else None,
                           started=lambda event: signals.publish(results, event))
    inbox = Inbox(app, process, topics)

    @app.task
    async def warm() -> None:
        await runner.warm()

    def stage_agent(stage: StageName) -> None:
        async def on_request(message, _trace: str | None):
            return await handler.on_request(message, stage)

        async def agent(stream: faust.StreamT) -> None:
            async for event in stream.events():
                await inbox.consume(event, on_request)

        app.agent(app.topic(topics.stage_requests(stage), **RAW), name=f"stage-{stage.value}",
                  concurrency=settings.pool_size)(agent)

    for stage in stages:
        stage_agent(stage)

    async def on_compensation(message, _trace: str | None):
        return await handler.on_compensation(message)

    @app.agent(app.topic(topics.name(COMPENSATIONS), **RAW), name="compensations")
    async def compensations(stream: faust.StreamT) -> None:
        async for event in stream.events():
            await inbox.consume(event, on_compensation)

    if follower is not None:
        @app.timer(interval=max(settings.tick_interval_s, POLICY_POLL_S))
        async def follow_policies() -> None:
            follower.poll()

    @app.timer(interval=1.0)
    async def deliver_signals() -> None:
        signals.poll(0)

    @app.on_before_shutdown.connect
    async def shutdown(app: faust.App, **_: object) -> None:
        runner.close()
        try:
            signals.flush(5)
        except PublishError as exc:  # a start signal lost: the saga's bound on the queue covers the attempt
            log.warning("%s: start signals not delivered at shutdown: %s", process, exc)
        if follower is not None:
            follower.close()

    return app
