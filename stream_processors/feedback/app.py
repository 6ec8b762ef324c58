"""The feedback process's faust wiring: the join agent (events + ratings) and the learner agent
(forwarded ratings by policy name); both send through one plain idempotent producer."""

from __future__ import annotations

import asyncio

import faust

from composition.events import Envelope
from infra.topics import EVENTS, FEEDBACK, FEEDBACK_BY_POLICY
from producers.kafka_publisher import KafkaPublisher
from producers.tracing import HEADER as TRACE_HEADER
from producers.tracing import child_of
from stream_processors.faust_app import make_app, table
from stream_processors.feedback.handler import FeedbackHandler
from stream_processors.inbox import RAW, Inbox, raw_value
from stream_processors.metrics import EVENTS_OUT
from stream_processors.settings import FeedbackSettings

PROCESS = "feedback"


class ProducerSender:
    """The handlers' DirectSender on a KafkaPublisher, made on first use, flushed off the event loop."""

    def __init__(self, bootstrap_servers: str) -> None:
        self.bootstrap_servers = bootstrap_servers
        self._publisher: KafkaPublisher | None = None

    @property
    def publisher(self) -> KafkaPublisher:
        if self._publisher is None:
            self._publisher = KafkaPublisher(self.bootstrap_servers, client_id=PROCESS)
        return self._publisher

    def send_raw(self, topic: str, value: bytes, key: bytes, traceparent: str | None) -> None:
        self.publisher.publish_raw(topic, value, key=key, headers=[(TRACE_HEADER, child_of(traceparent).encode())])

    def send(self, topic: str, event: Envelope, key: bytes, traceparent: str | None) -> None:
        self.publisher.publish(topic, event, key=key, traceparent=child_of(traceparent))
        EVENTS_OUT.labels(PROCESS, type(event).__name__).inc()

    async def delivered(self) -> None:
        """Wait (off the loop) until every queued message is acknowledged; a failure aborts the transaction."""
        await asyncio.get_running_loop().run_in_executor(None, self.publisher.flush, 30.0)

    def close(self) -> None:
        if self._publisher is not None:
            self._publisher.flush(10.0)
            self._publisher = None


def build(settings: FeedbackSettings) -> faust.App:
    topics = settings.topics
    app = make_app("cadenza-feedback", settings)
    sender = ProducerSender(settings.bootstrap_servers)
    handler = FeedbackHandler(table(app, "feedback-songs", settings), table(app, "feedback-stats", settings), sender,
                              topics)
    inbox = Inbox(app, PROCESS, topics)

    @app.agent(app.topic(topics.name(EVENTS), topics.name(FEEDBACK), **RAW), name="feedback-join")
    async def join_agent(stream: faust.StreamT) -> None:
        async for event in stream.events():
            await inbox.consume(event, handler.join)

    @app.agent(app.topic(topics.name(FEEDBACK_BY_POLICY), **RAW), name="feedback-learn")
    async def learn_agent(stream: faust.StreamT) -> None:
        async for event in stream.events():
            await inbox.consume(event, handler.learn, decoder=raw_value)

    @app.on_before_shutdown.connect
    async def flush_sender(app: faust.App, **_: object) -> None:
        sender.close()

    return app
