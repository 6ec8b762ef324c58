"""Publishing Cadenza events onto Kafka from outside the stream processors (API relay, CLI, tools).

An idempotent confluent-kafka producer: every message is keyed (by composition id unless told
otherwise), carries its event type and trace context in headers, and every delivery report is
checked; `flush()` raises if any message was not acknowledged, so nothing is silently dropped.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from composition.errors import TransientError
from composition.events import Envelope
from infra.outage_log import librdkafka_config
from producers.tracing import HEADER as TRACE_HEADER
from producers.tracing import new_traceparent
from schemas import wire


class PublishError(TransientError):
    """One or more messages were not acknowledged by the broker (an outage: the work is tried again)."""

    def __init__(self, failures: list[tuple[str, str]]) -> None:
        self.failures = failures
        detail = "; ".join(f"{topic}: {error}" for topic, error in failures[:5])
        super().__init__(f"{len(failures)} message(s) not delivered: {detail}")


def headers_for(event: Envelope, traceparent: str | None = None) -> list[tuple[str, bytes]]:
    return [
        ("event-type", type(event).__name__.encode()),
        ("content-type", wire.content_type().encode()),
        (TRACE_HEADER, (traceparent or new_traceparent()).encode()),
    ]


class KafkaPublisher:
    """Context-managed producer; use ``with KafkaPublisher(servers) as pub: pub.publish(...)``."""

    def __init__(self, bootstrap_servers: str, *, client_id: str = "cadenza-publisher",
                 transactional_id: str | None = None, config: dict[str, Any] | None = None) -> None:
        settings: dict[str, Any] = {
            "bootstrap.servers": bootstrap_servers,
            "client.id": client_id,
            "enable.idempotence": True,
            # the Java client's partitioner, which faust (aiokafka) uses too: a composition's messages
            # land on the same partition number of every topic whoever wrote them (co-partitioning)
            "partitioner": "murmur2_random",
            "acks": "all",
            "linger.ms": 5,
            "compression.type": "lz4",
            "message.max.bytes": 1_000_000,
            **librdkafka_config("producer"),  # reconnect backoff; an outage logged once, not per retry
        }
        if transactional_id:
            settings["transactional.id"] = transactional_id
        settings.update(config or {})
        self._producer = Producer(settings)
        self._failures: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self.delivered = 0
        if transactional_id:
            self._producer.init_transactions(30)

    # ------------------------------------------------------------ publishing

    def _on_delivery(self, error: KafkaError | None, message) -> None:
        with self._lock:
            if error is not None:
                self._failures.append((message.topic(), str(error)))
            else:
                self.delivered += 1

    def publish(self, topic: str, event: Envelope, *, key: str | bytes | None = None,
                traceparent: str | None = None) -> None:
        """Queue ``event`` for ``topic``, keyed by its composition id unless ``key`` is given."""
        self.publish_raw(topic, wire.encode(event), key=str(event.composition_id) if key is None else key,
                         headers=headers_for(event, traceparent))

    def publish_raw(self, topic: str, value: bytes, *, key: str | bytes | None,
                    headers: list[tuple[str, bytes]] | None = None) -> None:
        while True:
            try:
                self._producer.produce(topic, value=value, key=key, headers=headers, on_delivery=self._on_delivery)
                break
            except BufferError:  # local queue full: serve delivery reports, then retry
                self._producer.poll(0.5)
        self._producer.poll(0)

    def poll(self, timeout: float = 0.0) -> None:
        """Serve delivery reports (a long-lived publisher that is not flushed should call this now and then)."""
        self._producer.poll(timeout)

    def flush(self, timeout: float = 30.0) -> None:
        remaining = self._producer.flush(timeout)
        with self._lock:
            failures, self._failures = self._failures, []
        if remaining:
            failures.append(("*", f"{remaining} message(s) still queued after {timeout}s"))
        if failures:
            raise PublishError(failures)

    # ------------------------------------------------------------ transactions

    def begin(self) -> None:
        self._producer.begin_transaction()

    def commit(self, timeout: float = 30.0) -> None:
        try:
            self._producer.commit_transaction(timeout)
        except KafkaException as exc:
            raise PublishError([("transaction", str(exc))]) from exc

    def abort(self, timeout: float = 30.0) -> None:
        self._producer.abort_transaction(timeout)

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> "KafkaPublisher":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.flush()
