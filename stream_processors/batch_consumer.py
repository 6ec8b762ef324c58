"""A plain confluent-kafka consumer that applies each polled batch to PostgreSQL in one transaction:
the projector's loop and the analytics consumer's, written once.

read_committed, manual commits. Each message is applied in its own savepoint inside the batch's
transaction; offsets are committed only after that transaction commits, so a crash anywhere
re-delivers and the appliers are idempotent by event id. Error policy (``infra.error_policy``):
a message that cannot be decoded or applied is dead-lettered with its reason and the consumer goes
on; a database or broker outage is transient: the batch is rolled back, the consumer seeks back and
the polling loop retries with backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message, TopicPartition
from opentelemetry.trace import SpanKind
from sqlalchemy.orm import Session, sessionmaker

from infra import tracing
from infra.error_policy import classify, describe
from infra.outage_log import librdkafka_config
from infra.polling import PollingLoop
from infra.topics import DLQ, Topics
from producers.kafka_publisher import KafkaPublisher, PublishError
from producers.tracing import HEADER as TRACE_HEADER
from schemas import wire
from stream_processors.dead_letter import DeadLetter, dead_letter, header
from stream_processors.lag import LagReporter
from stream_processors.metrics import DEAD_LETTERS

Apply = Callable[[Session, Any, Message], bool]
"""Apply one decoded message in the caller's savepoint; True if it changed anything (False: a duplicate)."""

PREFETCH = {"queued.max.messages.kbytes": 4096, "queued.min.messages": 2000}
"""How far librdkafka reads ahead of a consumer that lags: 4 MB and 2,000 messages (its defaults, 64 MB
and 100,000, let a lagging projector grow by up to 64 MB: the soak benchmark's +47 MiB, slowing). A
batch is at most a few hundred messages, so this is still many batches ahead."""


@dataclass
class Failure:
    message: Message
    reason: str
    error: str


class BatchConsumer:
    """Consume ``topic_names``, apply, dead-letter, commit; ``run`` loops until ``stop``."""

    def __init__(self, sessions: sessionmaker[Session], bootstrap_servers: str, topics: Topics,
                 topic_names: list[str], apply: Apply, *, name: str, group_id: str, log: logging.Logger,
                 batch_size: int = 200, poll_timeout_s: float = 0.2,
                 decode: Callable[[bytes], Any] = wire.decode,
                 on_applied: Callable[[bool], None] | None = None) -> None:
        self.sessions = sessions
        self.apply = apply
        self.name = name
        self.log = log
        self.batch_size = batch_size
        self.poll_timeout_s = poll_timeout_s
        self.decode = decode
        self.on_applied = on_applied
        self.topic_names = topic_names
        self.dlq_topic = topics.name(DLQ)
        self.consumer = Consumer({
            "bootstrap.servers": bootstrap_servers, "group.id": group_id, "client.id": f"cadenza-{name}",
            "auto.offset.reset": "earliest", "enable.auto.commit": False, "isolation.level": "read_committed",
            "enable.partition.eof": False, **PREFETCH, **LagReporter(name, group_id).config(),
            **librdkafka_config(name),
        })
        self.consumer.subscribe(topic_names)
        self.dlq = KafkaPublisher(bootstrap_servers, client_id=f"cadenza-{name}-dlq")
        self.loop = PollingLoop(self.poll_once, name=name, log=log, idle_s=0)
        self.applied = 0
        self.dead_lettered = 0

    def poll_once(self) -> int:
        """One batch: returns how many messages were handled (applied, duplicate or dead-lettered)."""
        messages = [m for m in self.consumer.consume(self.batch_size, self.poll_timeout_s) if not self._broker_error(m)]
        if not messages:
            return 0
        failures: list[Failure] = []
        try:
            with self.sessions() as session, session.begin():
                for message in messages:
                    failure = self._apply(session, message)
                    if failure:
                        failures.append(failure)
            for failure in failures:
                self._dead_letter(failure)
            if failures:
                self.dlq.flush()
            self.consumer.commit(offsets=self._next_offsets(messages), asynchronous=False)
        except Exception:
            # read the batch again: a rolled-back batch is not in the database, and a committed one
            # applies again as duplicates (by event id) while its dead letters are sent again
            self._rewind(messages)
            raise
        return len(messages)

    def _apply(self, session: Session, message: Message) -> Failure | None:
        """Apply one message in its own savepoint; poison is returned as a Failure, transient errors raise."""
        source = f"{message.topic()}/{message.partition()}/{message.offset()}"
        try:
            with tracing.span(f"{self.name} {message.topic()}", header(message.headers(), TRACE_HEADER) or "",
                              SpanKind.CONSUMER, **{"messaging.source.name": message.topic(),
                                                    "messaging.kafka.offset": message.offset()}), \
                    session.begin_nested():
                fresh = self.apply(session, self.decode(message.value()), message)
        except Exception as exc:
            verdict = classify(exc)
            if verdict.retry:
                raise  # the database is gone: the whole batch is retried
            if verdict.reason == "processing_error":
                self.log.exception("%s cannot apply %s", self.name, source)
            return Failure(message, verdict.reason, describe(exc))
        if self.on_applied:
            self.on_applied(fresh)
        self.applied += fresh
        return None

    def _dead_letter(self, failure: Failure) -> None:
        m = failure.message
        record: DeadLetter = dead_letter(topic=m.topic(), partition=m.partition(), offset=m.offset(), key=m.key(),
                                         value=m.value(), headers=m.headers(), reason=failure.reason,
                                         error=failure.error, consumer=self.name)
        self.log.warning("dead-lettering %s/%d/%d: %s", m.topic(), m.partition(), m.offset(), failure.error)
        self.dlq.publish_raw(self.dlq_topic, record.value, key=record.key, headers=record.headers)
        DEAD_LETTERS.labels(self.name, failure.reason).inc()
        self.dead_lettered += 1

    def _broker_error(self, message: Message) -> bool:
        error = message.error()
        if error is None:
            return False
        if error.code() != KafkaError._PARTITION_EOF:
            self.log.warning("consumer error: %s", error)
        return True

    @staticmethod
    def _next_offsets(messages: list[Message]) -> list[TopicPartition]:
        highest: dict[tuple[str, int], int] = {}
        for m in messages:
            highest[(m.topic(), m.partition())] = max(highest.get((m.topic(), m.partition()), -1), m.offset())
        return [TopicPartition(t, p, o + 1) for (t, p), o in highest.items()]

    def _rewind(self, messages: list[Message]) -> None:
        lowest: dict[tuple[str, int], int] = {}
        for m in messages:
            key = (m.topic(), m.partition())
            lowest[key] = min(lowest.get(key, m.offset()), m.offset())
        for (t, p), offset in lowest.items():
            try:
                self.consumer.seek(TopicPartition(t, p, offset))
            except Exception:  # partition revoked meanwhile: the next owner starts at the committed offset
                pass

    def run(self) -> None:
        """Loop until :meth:`stop`, backing off while the database or the broker is down."""
        self.loop.run()

    def stop(self, *_args) -> None:
        self.loop.stop()

    def close(self) -> None:
        self.consumer.close()
        try:
            self.dlq.flush(5)
        except PublishError as exc:
            self.log.error("DLQ messages not acknowledged at shutdown: %s", exc)


def run_in_foreground(name: str, settings: Any, build: Callable[[sessionmaker[Session]], BatchConsumer],
                      log: logging.Logger, applied: str = "applied") -> None:
    """`cadenza run <name>` for a batch consumer: metrics, tracing and the wire format from ``settings``
    (a ServiceSettings with ``metrics_port`` and ``group_id``), the consumer ``build`` makes over the
    database, looping until SIGINT/SIGTERM, then closed with a last line of what it did."""
    import signal

    from infra.database import make_engine, make_session_factory
    from stream_processors.metrics import serve

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    serve(settings.metrics_port, settings.metrics_host)
    tracing.setup(name, settings.trace_config)
    wire.configure(settings.schema_settings)
    engine = make_engine(settings.database_url, pool_size=2, max_overflow=0)
    consumer = build(make_session_factory(engine))
    signal.signal(signal.SIGTERM, consumer.stop)
    signal.signal(signal.SIGINT, consumer.stop)
    log.info("%s consuming %s as %s", name, ", ".join(consumer.topic_names), settings.group_id)
    try:
        consumer.run()
    finally:
        consumer.close()
        engine.dispose()
        log.info("%s stopped (%d %s, %d dead-lettered)", name, consumer.applied, applied, consumer.dead_lettered)
