"""The faust side of every agent: decode, hand to the handler, publish its outputs, or dead-letter.

Agents are thin: ``async for event in stream.events(): await inbox.consume(event, handler)``. The
handler (a plain class, unit-tested without Kafka) returns the messages to publish; they go out in
the transaction that consumes the input (exactly-once). What the handler raises is judged by the one
error policy (:mod:`infra.error_policy`): poison is dead-lettered with its reason and the
agent goes on; a transient error propagates, the transaction aborts, and the message comes again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import faust
from opentelemetry.trace import SpanKind

from composition.events import Envelope
from infra import tracing
from infra.error_policy import classify, describe
from infra.topics import DLQ, Topics
from producers.kafka_publisher import headers_for
from producers.tracing import HEADER as TRACE_HEADER
from producers.tracing import child_of
from schemas import wire
from stream_processors.dead_letter import dead_letter
from stream_processors.faust_fixes import watch_delivery
from stream_processors.metrics import CONSUMER_LAG, DEAD_LETTERS, EVENTS_IN, EVENTS_OUT

log = logging.getLogger(__name__)

RAW = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
"""Our topics carry bytes (Avro through our own serde), never faust's JSON records."""


@dataclass(frozen=True)
class Outgoing:
    """A message a handler wants published: the real topic name, the event, the key (composition id if None)."""

    topic: str
    event: Envelope
    key: bytes | None = None


Handler = Callable[[Any, str | None], Awaitable[list[Outgoing]]]
"""Takes the decoded message and its trace context; returns what to publish."""


def raw_headers(event: faust.EventT) -> list[tuple[str, bytes]]:
    headers: Any = event.message.headers or []
    if isinstance(headers, dict):
        return list(headers.items())
    return [(k, v) for k, v in headers]


def trace_of(event: faust.EventT) -> str | None:
    for key, value in raw_headers(event):
        if key == TRACE_HEADER and value:
            return value.decode(errors="replace")
    return None


def decode_event(event: faust.EventT) -> Envelope:
    """The default decoder: Avro bytes in either wire format into an event (SerdeError when it cannot)."""
    return wire.decode(event.value)


def raw_value(event: faust.EventT) -> bytes:
    """For topics that carry something other than Avro events (a handler that parses them itself)."""
    return event.value


class Inbox:
    """One agent's consume/publish/dead-letter cycle; ``process`` names it in metrics and dead letters."""

    def __init__(self, app: faust.App, process: str, topics: Topics) -> None:
        self.app = app
        self.process = process
        self.dlq = app.topic(topics.name(DLQ), **RAW)
        self._topics: dict[str, faust.TopicT] = {}

    def topic(self, name: str) -> faust.TopicT:
        if name not in self._topics:
            self._topics[name] = self.app.topic(name, **RAW)
        return self._topics[name]

    async def consume(self, event: faust.EventT, handler: Handler,
                      decoder: Callable[[faust.EventT], Any] = decode_event) -> None:
        """Decode ``event``, run ``handler`` on it, publish what it returns; apply the error policy."""
        self._lag(event.message)
        trace = trace_of(event)
        with tracing.span(f"{self.process} {event.message.topic}", trace or "", SpanKind.CONSUMER,
                          **{"messaging.source.name": event.message.topic,
                             "messaging.kafka.partition": event.message.partition,
                             "messaging.kafka.offset": event.message.offset}) as span:
            try:
                message = decoder(event)
                if isinstance(message, Envelope):
                    EVENTS_IN.labels(self.process, type(message).__name__).inc()
                    span.update_name(f"{self.process} {type(message).__name__}")
                    span.set_attribute("cadenza.composition_id", str(message.composition_id))
                outputs = await handler(message, tracing.traceparent_of() or trace)
            except Exception as exc:
                verdict = classify(exc)
                if verdict.retry:
                    raise
                if verdict.reason == "processing_error":
                    log.exception("%s could not process %s[%s]@%s", self.process, event.message.topic,
                                  event.message.partition, event.message.offset)
                span.set_attribute("cadenza.dead_letter", verdict.reason)
                await self.dead_letter(event, verdict.reason, describe(exc))
                return
            for output in outputs:
                await self.publish(output, trace)

    async def dead_letter(self, event: faust.EventT, reason: str, error: str) -> None:
        message = event.message
        letter = dead_letter(topic=message.topic, partition=message.partition, offset=message.offset,
                             key=message.key, value=message.value, headers=raw_headers(event),
                             reason=reason, error=error, consumer=self.process)
        log.warning("dead-lettering %s[%s]@%s: %s %s", message.topic, message.partition, message.offset, reason, error)
        watch_delivery(await self.dlq.send(key=letter.key, value=letter.value, headers=letter.headers))
        DEAD_LETTERS.labels(self.process, reason).inc()

    async def publish(self, output: Outgoing, traceparent: str | None) -> None:
        event = output.event
        key = output.key if output.key is not None else str(event.composition_id).encode()
        watch_delivery(await self.topic(output.topic).send(key=key, value=wire.encode(event),
                                                           headers=headers_for(event, child_of(traceparent))))
        EVENTS_OUT.labels(self.process, type(event).__name__).inc()

    def _lag(self, message: Any) -> None:
        try:
            highwater = self.app.consumer.highwater(message.tp)
        except (AssertionError, AttributeError, KeyError, RuntimeError):  # not assigned: the consumer is rebalancing
            return
        if highwater is not None:
            CONSUMER_LAG.labels(self.process, self.app.conf.id, message.tp.topic, str(message.tp.partition)).set(
                max(0, highwater - message.offset - 1))
