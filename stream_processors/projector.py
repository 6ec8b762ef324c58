"""The projector: compositions.events into the read model (PostgreSQL), for the API to serve.

A plain confluent-kafka consumer (read_committed, manual commits). Each polled batch is applied in
one database transaction, one savepoint per message; offsets are committed only after that
transaction commits, so a crash anywhere re-delivers, and the projection is idempotent by event id.
Error policy (the one every consumer follows, ``infra.error_policy``): a message that cannot be
decoded, is not a public event, or fails to apply is dead-lettered with the reason and the projector
goes on; a database or broker outage is transient: the batch is rolled back, the consumer seeks back,
and it retries with backoff.
"""

from __future__ import annotations

import logging
import signal
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError, Message, TopicPartition
from prometheus_client import Counter
from pydantic import Field
from pydantic_settings import SettingsConfigDict
from sqlalchemy.orm import Session, sessionmaker

from infra.error_policy import classify, describe
from infra.outage_log import librdkafka_config
from infra.polling import PollingLoop
from infra.settings import ServiceSettings
from infra.topics import DLQ, EVENTS, Topics
from producers.kafka_publisher import KafkaPublisher, PublishError
from readmodel.projection import project
from schemas.serde import decode
from stream_processors.dead_letter import DeadLetter, dead_letter

log = logging.getLogger("cadenza.projector")

PROJECTED = Counter("cadenza_projector_events_total", "Events applied to the read model, by outcome", ["outcome"])
DEAD = Counter("cadenza_projector_dead_letters_total", "Events sent to the DLQ by the projector, by reason", ["reason"])

CONSUMER_NAME = "projector"


class ProjectorSettings(ServiceSettings):
    """The projector's settings (prefix CADENZA_PROJECTOR_), beside where the services are."""

    model_config = SettingsConfigDict(env_prefix="CADENZA_PROJECTOR_", extra="ignore", populate_by_name=True)

    group_id: str = "cadenza-projector"
    batch_size: int = Field(default=200, ge=1, le=10_000)
    poll_timeout_s: float = Field(default=0.2, gt=0, le=10)
    metrics_port: int = Field(default=0, ge=0, le=65535)


@dataclass
class Failure:
    message: Message
    reason: str
    error: str


class Projector:
    """Consume, project, dead-letter, commit; ``run`` loops until ``stop``."""

    def __init__(self, sessions: sessionmaker[Session], bootstrap_servers: str, topics: Topics, *, group_id: str,
                 batch_size: int = 200, poll_timeout_s: float = 0.2) -> None:
        self.sessions = sessions
        self.batch_size = batch_size
        self.poll_timeout_s = poll_timeout_s
        self.events_topic = topics.name(EVENTS)
        self.dlq_topic = topics.name(DLQ)
        self.consumer = Consumer({
            "bootstrap.servers": bootstrap_servers, "group.id": group_id, "client.id": "cadenza-projector",
            "auto.offset.reset": "earliest", "enable.auto.commit": False, "isolation.level": "read_committed",
            "enable.partition.eof": False, **librdkafka_config("projector"),
        })
        self.consumer.subscribe([self.events_topic])
        self.dlq = KafkaPublisher(bootstrap_servers, client_id="cadenza-projector-dlq")
        self.loop = PollingLoop(self.poll_once, name="projector", log=log, idle_s=0)
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
            # projects again as duplicates (by event id) while its dead letters are sent again
            self._rewind(messages)
            raise
        return len(messages)

    def _apply(self, session: Session, message: Message) -> Failure | None:
        """Project one message in its own savepoint; poison is returned as a Failure, transient errors raise."""
        source = f"{message.topic()}/{message.partition()}/{message.offset()}"
        try:
            with session.begin_nested():
                fresh = project(session, decode(message.value()), source)
        except Exception as exc:
            verdict = classify(exc)
            if verdict.retry:
                raise  # the database is gone: the whole batch is retried
            if verdict.reason == "processing_error":
                log.exception("cannot project %s", source)
            return Failure(message, verdict.reason, describe(exc))
        PROJECTED.labels("applied" if fresh else "duplicate").inc()
        self.applied += fresh
        return None

    def _dead_letter(self, failure: Failure) -> None:
        m = failure.message
        record: DeadLetter = dead_letter(topic=m.topic(), partition=m.partition(), offset=m.offset(), key=m.key(),
                                         value=m.value(), headers=m.headers(), reason=failure.reason,
                                         error=failure.error, consumer=CONSUMER_NAME)
        log.warning("dead-lettering %s/%d/%d: %s", m.topic(), m.partition(), m.offset(), failure.error)
        self.dlq.publish_raw(self.dlq_topic, record.value, key=record.key, headers=record.headers)
        DEAD.labels(failure.reason).inc()
        self.dead_lettered += 1

    def _broker_error(self, message: Message) -> bool:
        error = message.error()
        if error is None:
            return False
        if error.code() != KafkaError._PARTITION_EOF:
            log.warning("consumer error: %s", error)
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
            log.error("DLQ messages not acknowledged at shutdown: %s", exc)


def main() -> None:
    """`cadenza run projector`: the projector in the foreground until SIGINT/SIGTERM."""
    from infra.database import make_engine, make_session_factory
    from stream_processors.metrics import serve

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = ProjectorSettings()
    serve(settings.metrics_port)
    engine = make_engine(settings.database_url, pool_size=2, max_overflow=0)
    projector = Projector(make_session_factory(engine), settings.bootstrap_servers, settings.topics,
                          group_id=settings.group_id, batch_size=settings.batch_size,
                          poll_timeout_s=settings.poll_timeout_s)
    signal.signal(signal.SIGTERM, projector.stop)
    signal.signal(signal.SIGINT, projector.stop)
    log.info("projector consuming %s as %s", projector.events_topic, settings.group_id)
    try:
        projector.run()
    finally:
        projector.close()
        engine.dispose()
        log.info("projector stopped (%d applied, %d dead-lettered)", projector.applied, projector.dead_lettered)
