"""The outbox relay: publishes unsent outbox rows to Kafka and marks them sent.

Each batch is claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` inside a transaction that stays open
until the broker has acknowledged every message of the batch, so several relays can run side by
side without publishing a row twice, and a relay that dies mid-batch leaves its rows to the others.
If the broker does not acknowledge (down, unreachable), the transaction rolls back, the rows stay
unsent, and the relay tries again with backoff: delivery is at least once (a message the broker got
but did not acknowledge in time is sent again), and every consumer is idempotent by event id.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable

from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Gauge
from pydantic import Field
from pydantic_settings import SettingsConfigDict
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from infra import tracing
from infra.polling import PollingLoop
from infra.settings import ServiceSettings
from producers import outbox
from producers.kafka_publisher import KafkaPublisher, PublishError
from producers.outbox import OutboxMessage
from producers.tracing import HEADER as TRACE_HEADER
from producers.tracing import child_of

log = logging.getLogger("cadenza.relay")

PUBLISHED = Counter("cadenza_outbox_published_total", "Outbox rows published and marked sent")
FAILED_BATCHES = Counter("cadenza_outbox_failed_batches_total", "Batches the broker did not acknowledge")
PUBLISH_ERRORS = Counter("cadenza_outbox_publish_errors_total",
                         "Messages the broker did not acknowledge (their batch is rolled back and sent again)")
BACKLOG = Gauge("cadenza_outbox_backlog_messages", "Unsent outbox rows at the last check")
OLDEST_UNSENT = Gauge("cadenza_outbox_oldest_unsent_age_seconds",
                      "Age of the oldest unsent outbox row at the last check (0: none waits)")
GAUGE_INTERVAL_S = 1.0
"""The backlog gauges are refreshed at most this often (one indexed query on the unsent rows)."""


class RelaySettings(ServiceSettings):
    """The relay's settings (prefix CADENZA_RELAY_), beside where the services are."""

    model_config = SettingsConfigDict(env_prefix="CADENZA_RELAY_", extra="ignore", populate_by_name=True)

    batch_size: int = Field(default=500, ge=1, le=10_000)
    idle_s: float = Field(default=0.1, gt=0, le=10)
    """How long to wait when the outbox is empty."""
    ack_timeout_s: float = Field(default=10.0, gt=0, le=300)
    """A message the broker has not acknowledged after this long fails its batch (rolled back, retried)."""
    metrics_port: int = Field(default=0, ge=0, le=65535)


class OutboxRelay:
    """Publishes the outbox in batches; ``run_once`` is one batch, ``run`` loops until stopped."""

    def __init__(self, sessions: sessionmaker[Session], bootstrap_servers: str, *, batch_size: int = 500,
                 idle_s: float = 0.1, ack_timeout_s: float = 10.0, client_id: str = "cadenza-outbox-relay",
                 publisher_factory: Callable[[], KafkaPublisher] | None = None) -> None:
        self.sessions = sessions
        self.batch_size = batch_size
        self.ack_timeout_s = ack_timeout_s
        self._factory = publisher_factory or (lambda: KafkaPublisher(
            bootstrap_servers, client_id=client_id,
            config={"message.timeout.ms": int(ack_timeout_s * 1000), "linger.ms": 2}))
        self._publisher: KafkaPublisher | None = None
        self.loop = PollingLoop(self._step, name="outbox relay", log=log, idle_s=idle_s, on_failure=self._failed)
        self._gauges_at = 0.0

    @property
    def publisher(self) -> KafkaPublisher:
        if self._publisher is None:
            self._publisher = self._factory()
        return self._publisher

    def run_once(self) -> int:
        """Publish one batch of unsent rows; return how many were sent. Raises PublishError."""
        with self.sessions() as session, session.begin():
            rows = session.execute(
                select(OutboxMessage.id, OutboxMessage.topic, OutboxMessage.key, OutboxMessage.value,
                       OutboxMessage.headers)
                .where(OutboxMessage.sent_at.is_(None))
                .order_by(OutboxMessage.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            publisher = self.publisher
            for row in rows:
                stored = dict(row.headers or {})
                with tracing.span(f"relay {row.topic}", stored.get(TRACE_HEADER), SpanKind.PRODUCER,
                                  **{"messaging.destination.name": row.topic, "cadenza.outbox_id": row.id,
                                     "cadenza.event_type": stored.get("event-type")}):
                    if TRACE_HEADER in stored:  # the reader's parent is this span (the API's is ours)
                        stored[TRACE_HEADER] = child_of(stored[TRACE_HEADER])
                    headers = [(name, value.encode()) for name, value in stored.items()]
                    publisher.publish_raw(row.topic, row.value, key=row.key, headers=headers)
            publisher.flush(self.ack_timeout_s + 5)
            session.execute(update(OutboxMessage).where(OutboxMessage.id.in_([r.id for r in rows]))
                            .values(sent_at=text("now()")))
        PUBLISHED.inc(len(rows))
        return len(rows)

    def _step(self) -> int:
        self.refresh_gauges()
        sent = self.run_once()
        if sent:
            log.info("published %d outbox row(s)", sent)
        return sent

    def refresh_gauges(self, force: bool = False) -> None:
        """Set the backlog gauges from the outbox (at most every GAUGE_INTERVAL_S unless ``force``)."""
        now = time.monotonic()
        if not force and now - self._gauges_at < GAUGE_INTERVAL_S:
            return
        self._gauges_at = now
        with self.sessions() as session:
            count, age = outbox.backlog_age(session)
        BACKLOG.set(count)
        OLDEST_UNSENT.set(age)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, PublishError):
            FAILED_BATCHES.inc()
            PUBLISH_ERRORS.inc(sum(1 for topic, _ in exc.failures if topic != "*") or 1)
            self._publisher = None  # a fresh producer after delivery timeouts

    def backlog(self) -> int:
        with self.sessions() as session:
            return outbox.backlog(session)

    def run(self) -> None:
        """Loop until :meth:`stop`: publish while there is work, back off while the broker or database fails."""
        self.loop.run()

    def stop(self, *_args) -> None:
        self.loop.stop()

    def close(self) -> None:
        if self._publisher is not None:
            try:
                self._publisher.flush(5)
            except PublishError:
                pass
            self._publisher = None


def main() -> None:
    """`cadenza run relay`: the relay in the foreground until SIGINT/SIGTERM."""
    from infra.database import make_engine, make_session_factory
    from stream_processors.metrics import serve

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = RelaySettings()
    serve(settings.metrics_port, settings.metrics_host)
    tracing.setup("relay", settings.trace_config)
    engine = make_engine(settings.database_url, pool_size=2, max_overflow=0)
    relay = OutboxRelay(make_session_factory(engine), settings.bootstrap_servers, batch_size=settings.batch_size,
                        idle_s=settings.idle_s, ack_timeout_s=settings.ack_timeout_s)
    signal.signal(signal.SIGTERM, relay.stop)
    signal.signal(signal.SIGINT, relay.stop)
    log.info("outbox relay started (%d unsent)", relay.backlog())
    try:
        relay.run()
    finally:
        relay.close()
        engine.dispose()
        log.info("outbox relay stopped")
