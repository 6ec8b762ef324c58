"""Decoding what a faust agent consumed, with the one error policy every consumer follows.

A message that cannot be decoded (SerdeError) or whose processing raises a non-transient error goes
to ``compositions.dlq`` with the reason, topic, partition and offset, and the agent goes on. Kafka
errors while publishing are transient: they propagate, the transaction aborts, the worker restarts
and the message is processed again.
"""

from __future__ import annotations

import logging
from typing import Any

import faust

from composition.events import Envelope
from producers.kafka_publisher import headers_for
from producers.tracing import HEADER as TRACE_HEADER
from producers.tracing import child_of
from schemas.errors import SerdeError
from schemas.serde import decode, encode
from stream_processors.dead_letter import dead_letter
from stream_processors.metrics import CONSUMER_LAG, DEAD_LETTERS, EVENTS_IN, EVENTS_OUT

log = logging.getLogger(__name__)


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


class Inbox:
    """Decode, count, measure lag, dead-letter; and publish with the right headers."""

    def __init__(self, app: faust.App, process: str, dlq_topic: faust.TopicT) -> None:
        self.app = app
        self.process = process
        self.dlq = dlq_topic

    async def decode(self, event: faust.EventT) -> Envelope | None:
        message = event.message
        self._lag(message)
        try:
            decoded = decode(event.value)
        except SerdeError as exc:
            await self.dead_letter(event, exc.reason.value, str(exc))
            return None
        EVENTS_IN.labels(self.process, type(decoded).__name__).inc()
        return decoded

    async def dead_letter(self, event: faust.EventT, reason: str, error: str) -> None:
        message = event.message
        letter = dead_letter(topic=message.topic, partition=message.partition, offset=message.offset,
                             key=message.key, value=message.value, headers=raw_headers(event),
                             reason=reason, error=error, consumer=self.process)
        log.warning("dead-lettering %s[%s]@%s: %s %s", message.topic, message.partition, message.offset, reason, error)
        await self.dlq.send(key=letter.key, value=letter.value, headers=letter.headers)
        DEAD_LETTERS.labels(self.process, reason).inc()

    async def publish(self, topic: faust.TopicT, event: Envelope, traceparent: str | None) -> None:
        headers = headers_for(event, child_of(traceparent))
        await topic.send(key=str(event.composition_id).encode(), value=encode(event), headers=headers)
        EVENTS_OUT.labels(self.process, type(event).__name__).inc()

    def _lag(self, message: Any) -> None:
        try:
            tp = message.tp
            highwater = self.app.consumer.highwater(tp)
        except Exception:  # the consumer is rebalancing
            return
        if highwater is not None:
            CONSUMER_LAG.labels(self.process, tp.topic, str(tp.partition)).set(max(0, highwater - message.offset - 1))
