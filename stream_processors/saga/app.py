"""The saga's faust wiring: one agent over requests, cancels, stage results and its own ticks.

All four inputs are keyed by composition id and co-partitioned, so one worker owns every input of a
composition; state and outputs go in one Kafka transaction (exactly-once). A timer sends a Tick for
each due wake-up onto the internal ticks topic through a plain idempotent producer: under
exactly-once a faust send from a timer would wait in the transaction of the tick's partition, which
only commits when that partition gets input - and the tick may be the only input to come.
"""

from __future__ import annotations

import importlib
import time

import faust

from composition.circuit import CircuitBreaker
from composition.events import utcnow
from composition.policy import SagaPolicy
from composition.retry import Backoff
from infra.topics import CONTROL, REQUESTS, SAGA_TICKS, STAGE_RESULTS
from producers.kafka_publisher import KafkaPublisher
from producers.tracing import HEADER as TRACE_HEADER
from stream_processors.faust_app import make_app, table
from stream_processors.inbox import RAW, Inbox, decode_event
from stream_processors.saga.handler import SagaHandler, tick_for
from stream_processors.settings import SagaSettings

PROCESS = "saga"


def policy_from(settings: SagaSettings) -> SagaPolicy:
    """The saga policy: the provider catalog from the registry (CADENZA_PROVIDERS), the preferred order
    from CADENZA_SAGA_PROVIDERS (``stage=a,b;stage=c``), backoff and deadline scale."""
    order: dict[str, tuple[str, ...]] = {}
    for item in filter(None, (part.strip() for part in settings.saga_providers.split(";"))):
        stage, _, names = item.partition("=")
        order[stage.strip()] = tuple(n.strip() for n in names.split(",") if n.strip())
    module, _, attr = settings.providers.partition(":")
    registry = getattr(importlib.import_module(module), attr)(settings.engine_config)
    return SagaPolicy(
        catalog=registry.catalog(),
        order=order,
        backoff=Backoff(base_s=settings.backoff_base_s, cap_s=max(settings.backoff_max_s, settings.backoff_base_s)),
        deadline_scale=settings.deadline_scale,
        queue_timeout_s=settings.queue_timeout_s,
    )


def build(settings: SagaSettings) -> faust.App:
    topics = settings.topics
    app = make_app("cadenza-saga", settings)
    ticks_topic = topics.name(SAGA_TICKS)
    inputs = app.topic(topics.name(REQUESTS), topics.name(CONTROL), topics.name(STAGE_RESULTS), ticks_topic, **RAW)
    handler = SagaHandler(policy_from(settings), topics, table(app, "sagas", settings),
                          table(app, "saga-wakeups", settings),
                          CircuitBreaker(settings.circuit_failures, settings.circuit_cooldown_s),
                          purges=table(app, "saga-purges", settings), keep_s=settings.saga_retention_s)
    inbox = Inbox(app, PROCESS, topics)
    ticker: list[KafkaPublisher] = []  # made on the first due tick

    def decode(event: faust.EventT):
        return tick_for(event.value) if event.message.topic == ticks_topic else decode_event(event)

    traces: dict[bytes, str] = {}  # the trace of each composition in flight, carried on by its ticks

    async def handle(message, trace: str | None) -> list:
        outputs = handler.handle(message, utcnow())
        key = str(message.composition_id).encode()
        if key not in handler.in_flight:
            traces.pop(key, None)
        elif trace:
            traces[key] = trace
        return outputs

    @app.agent(inputs, name="saga")
    async def saga(stream: faust.StreamT) -> None:
        async for event in stream.events():
            await inbox.consume(event, handle, decode)

    @app.timer(interval=settings.tick_interval_s)
    async def due_ticks() -> None:
        due = handler.due(time.time())
        if due and not ticker:
            ticker.append(KafkaPublisher(settings.bootstrap_servers, client_id=f"{PROCESS}-ticks"))
        for key in due:
            trace = traces.get(key)
            ticker[0].publish_raw(ticks_topic, key, key=key, headers=[(TRACE_HEADER, trace.encode())] if trace else None)
        if ticker:
            ticker[0].poll()

    @app.timer(interval=settings.saga_purge_scan_s)
    async def due_purges() -> None:
        """Tick every composition whose retention has passed; its tick (a transaction) purges it."""
        due = handler.due_purges(time.time())
        if due and not ticker:
            ticker.append(KafkaPublisher(settings.bootstrap_servers, client_id=f"{PROCESS}-ticks"))
        for key in due:
            ticker[0].publish_raw(ticks_topic, key, key=key)
        if ticker:
            ticker[0].poll()

    app.saga_agent = saga  # for tests and introspection
    return app
