"""The projector: compositions.events into the read model (PostgreSQL), for the API to serve.

A :class:`~stream_processors.batch_consumer.BatchConsumer` (read_committed, one database transaction
per polled batch, one savepoint per message, offsets committed after the transaction), so a crash
anywhere re-delivers, and the projection is idempotent by event id. Error policy (the one every
consumer follows, ``infra.error_policy``): a message that cannot be decoded, is not a public event,
or fails to apply is dead-lettered with the reason and the projector goes on; a database or broker
outage is transient: the batch is rolled back, the consumer seeks back, and it retries with backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from confluent_kafka import Message
from prometheus_client import Counter
from pydantic import Field
from pydantic_settings import SettingsConfigDict
from sqlalchemy.orm import Session, sessionmaker

from infra.settings import ServiceSettings
from infra.topics import EVENTS, Topics
from readmodel.projection import project
from schemas import wire
from stream_processors.batch_consumer import BatchConsumer, run_in_foreground

log = logging.getLogger("cadenza.projector")

PROJECTED = Counter("cadenza_projector_events_total", "Events applied to the read model, by outcome", ["outcome"])

CONSUMER_NAME = "projector"


class ProjectorSettings(ServiceSettings):
    """The projector's settings (prefix CADENZA_PROJECTOR_), beside where the services are."""

    model_config = SettingsConfigDict(env_prefix="CADENZA_PROJECTOR_", extra="ignore", populate_by_name=True)

    group_id: str = "cadenza-projector"
    batch_size: int = Field(default=200, ge=1, le=10_000)
    poll_timeout_s: float = Field(default=0.2, gt=0, le=10)
    metrics_port: int = Field(default=0, ge=0, le=65535)


def _project(session: Session, event: Any, message: Message) -> bool:
    return project(session, event, f"{message.topic()}/{message.partition()}/{message.offset()}")


class Projector(BatchConsumer):
    """Consume compositions.events, project, dead-letter, commit; ``run`` loops until ``stop``."""

    def __init__(self, sessions: sessionmaker[Session], bootstrap_servers: str, topics: Topics, *, group_id: str,
                 batch_size: int = 200, poll_timeout_s: float = 0.2,
                 decode: Callable[[bytes], Any] = wire.decode) -> None:
        self.events_topic = topics.name(EVENTS)
        super().__init__(sessions, bootstrap_servers, topics, [self.events_topic], _project, name=CONSUMER_NAME,
                         group_id=group_id, log=log, batch_size=batch_size, poll_timeout_s=poll_timeout_s,
                         decode=decode, on_applied=lambda fresh: PROJECTED.labels(
                             "applied" if fresh else "duplicate").inc())


def main() -> None:
    """`cadenza run projector`: the projector in the foreground until SIGINT/SIGTERM."""
    settings = ProjectorSettings()
    run_in_foreground("projector", settings, lambda sessions: Projector(
        sessions, settings.bootstrap_servers, settings.topics, group_id=settings.group_id,
        batch_size=settings.batch_size, poll_timeout_s=settings.poll_timeout_s), log)
