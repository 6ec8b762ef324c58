"""The saga process: a faust agent around the pure transition function ``composition.saga.transition``.

It consumes requests, cancels, stage results and its own timer ticks (all keyed by composition id
and co-partitioned, so one worker owns all of a composition's inputs), keeps each composition's
state in a changelog-backed table, and publishes stage requests, compensations and the public
lifecycle/progress events - state and output in one Kafka transaction (exactly-once).

Deadlines and backoff delays are absolute times inside the state. A second small table indexes the
next wake-up per composition; a timer sends a Tick for each one that is due onto the internal ticks
topic, so timers survive a restart (the index is restored from its changelog) and a Tick is processed
like any other input, inside a transaction.
"""

from __future__ import annotations

import logging
import time
import uuid

import faust

from composition.events import (
    CompensationRequested,
    CompositionCancelled,
    CompositionCompleted,
    CompositionFailed,
    Envelope,
    StageFailed,
    StageRequested,
    utcnow,
)
from composition.policy import SagaPolicy
from composition.retry import Backoff
from composition.saga import transition
from composition.saga_state import SagaState, Tick, next_wakeup
from infra.topics import COMPENSATIONS, CONTROL, DLQ, EVENTS, REQUESTS, SAGA_TICKS, STAGE_RESULTS, stage_requests, topic, topic_prefix
from producers.kafka_publisher import KafkaPublisher
from stream_processors import metrics as m
from stream_processors.faust_app import make_app, table_options
from stream_processors.inbox import Inbox, trace_of
from stream_processors.settings import SagaSettings

log = logging.getLogger(__name__)
PROCESS = "saga"
TICK_RESEND_S = 5.0


def policy_from(settings: SagaSettings) -> SagaPolicy:
    chains: dict[str, tuple[str, ...]] = {}
    for item in filter(None, (part.strip() for part in settings.saga_providers.split(";"))):
        stage, _, names = item.partition("=")
        chains[stage.strip()] = tuple(n.strip() for n in names.split(",") if n.strip())
    return SagaPolicy(
        providers=chains,
        backoff=Backoff(base_s=settings.backoff_base_s, cap_s=max(settings.backoff_max_s, settings.backoff_base_s)),
        deadline_scale=settings.deadline_scale,
    )


def build(settings: SagaSettings | None = None) -> faust.App:
    settings = settings or SagaSettings()
    policy = policy_from(settings)
    app = make_app(f"{topic_prefix()}cadenza-saga", settings)
    raw = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
    ticks_name = topic(SAGA_TICKS)
    inputs = app.topic(topic(REQUESTS), topic(CONTROL), topic(STAGE_RESULTS), ticks_name, **raw)
    # Ticks go out through a plain idempotent producer, not faust's: under exactly-once faust would put a
    # timer's send into the transaction of the tick's partition, which only commits when an input on that
    # partition is processed - and the tick may be the only input to come.
    ticker: dict[str, KafkaPublisher] = {}
    events, compensations, dlq = app.topic(topic(EVENTS), **raw), app.topic(topic(COMPENSATIONS), **raw), app.topic(topic(DLQ), **raw)
    stage_topics = {}
    sagas = app.Table("sagas", partitions=4, options=table_options(settings), key_type=bytes, value_type=bytes)
    wakeups = app.Table("saga-wakeups", partitions=4, options=table_options(settings), key_type=bytes, value_type=bytes)
    inbox = Inbox(app, PROCESS, dlq)
    in_flight: set[bytes] = set()
    tick_sent: dict[bytes, float] = {}

    def route(output: Envelope) -> faust.TopicT:
        if isinstance(output, StageRequested):
            name = topic(stage_requests(output.stage))
            if name not in stage_topics:
                stage_topics[name] = app.topic(name, **raw)
            return stage_topics[name]
        if isinstance(output, CompensationRequested):
            return compensations
        return events

    async def decode(event: faust.EventT):
        if event.message.topic == ticks_name:
            try:
                return Tick(composition_id=uuid.UUID(event.value.decode()))
            except (ValueError, UnicodeDecodeError) as exc:
                await inbox.dead_letter(event, "bad_tick", repr(exc))
                return None
        return await inbox.decode(event)

    @app.agent(inputs, name="saga")
    async def saga(stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = await decode(event)
            if message is None:
                continue
            key = str(message.composition_id).encode()
            stored = sagas.get(key)
            try:
                state = SagaState.model_validate_json(stored) if stored else None
                new_state, outputs = transition(state, message, utcnow(), policy)
            except Exception as exc:  # a bug or an impossible input: poison, not a reason to stop
                log.exception("saga transition failed")
                await inbox.dead_letter(event, "processing_error", repr(exc))
                continue
            log.debug("saga %s %s -> %s, %d output(s)", message.composition_id, type(message).__name__,
                     new_state.phase if new_state else None, len(outputs))
            if new_state is not None and new_state is not state:
                sagas[key] = new_state.model_dump_json().encode()
            wake = next_wakeup(new_state)
            current = wakeups.get(key)
            if wake is not None:
                value = str(wake.timestamp()).encode()
                if value != current:  # each write is a changelog message in the transaction
                    wakeups[key] = value
            elif current is not None:
                del wakeups[key]
            tick_sent.pop(key, None)
            trace = trace_of(event)
            for output in outputs:
                await inbox.publish(route(output), output, trace)
            _observe(message, state, new_state, outputs, key, in_flight)

    @app.timer(interval=settings.tick_interval_s)
    async def due_ticks() -> None:
        now = time.time()
        for key, when in list(wakeups.items()):
            if float(when) <= now and tick_sent.get(key, 0.0) < now - TICK_RESEND_S:
                tick_sent[key] = now
                if "publisher" not in ticker:
                    ticker["publisher"] = KafkaPublisher(settings.bootstrap_servers, client_id=f"{PROCESS}-ticks")
                ticker["publisher"].publish_raw(ticks_name, key, key=key)
        if "publisher" in ticker:
            ticker["publisher"].poll()

    @app.timer(interval=5.0)
    async def gauges() -> None:
        m.IN_FLIGHT.set(len(in_flight))

    app.saga_agent = saga  # for tests and introspection
    return app


def _observe(message, old: SagaState | None, state: SagaState | None, outputs: list[Envelope], key: bytes,
             in_flight: set[bytes]) -> None:
    if isinstance(message, StageFailed):
        m.FAILURES.labels(message.stage.value, message.error.code).inc()
    for output in outputs:
        if isinstance(output, StageRequested):
            if output.attempt > 1:
                m.RETRIES.labels(output.stage.value).inc()
        elif isinstance(output, CompensationRequested):
            m.COMPENSATIONS.labels(output.stage.value, "requested").inc()
        elif isinstance(output, CompositionCompleted):
            m.END_TO_END.observe(output.duration_ms / 1000)
            m.TERMINAL.labels("completed").inc()
        elif isinstance(output, CompositionFailed):
            m.TERMINAL.labels("failed").inc()
        elif isinstance(output, CompositionCancelled):
            m.TERMINAL.labels("cancelled").inc()
    if isinstance(message, Tick) and state is not None and old is not None:
        for name, st in state.stages.items():
            before = old.stages.get(name)
            if (st.last_error is not None and st.last_error.code == "deadline_exceeded"
                    and (before is None or before.last_error != st.last_error or before.attempt != st.attempt)):
                m.TIMEOUTS.labels(name.value).inc()
    if state is not None and not state.terminal and state.phase != "awaiting_request":
        in_flight.add(key)
    else:
        in_flight.discard(key)
