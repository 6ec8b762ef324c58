"""`cadenza run analytics`: the analytics consumer, a BatchConsumer over the public event stream,
the requests and the ratings, recording into its own tables (idempotent by event id)."""

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
from infra.topics import EVENTS, FEEDBACK, REQUESTS, Topics
from schemas import wire
from stream_processors.analytics.recorder import record
from stream_processors.batch_consumer import BatchConsumer, run_in_foreground

log = logging.getLogger("cadenza.analytics")

RECORDED = Counter("cadenza_analytics_events_total", "Events the analytics consumer read, by outcome", ["outcome"])

CONSUMER_NAME = "analytics"


class AnalyticsSettings(ServiceSettings):
    """The analytics consumer's settings (prefix CADENZA_ANALYTICS_), beside where the services are."""

    model_config = SettingsConfigDict(env_prefix="CADENZA_ANALYTICS_", extra="ignore", populate_by_name=True)

    group_id: str = "cadenza-analytics"
    batch_size: int = Field(default=500, ge=1, le=10_000)
    poll_timeout_s: float = Field(default=0.5, gt=0, le=10)
    metrics_port: int = Field(default=0, ge=0, le=65535)


def _record(session: Session, event: Any, _message: Message) -> bool:
    return record(session, event)


class AnalyticsConsumer(BatchConsumer):
    def __init__(self, sessions: sessionmaker[Session], bootstrap_servers: str, topics: Topics, *, group_id: str,
                 batch_size: int = 500, poll_timeout_s: float = 0.5,
                 decode: Callable[[bytes], Any] = wire.decode) -> None:
        names = [topics.name(REQUESTS), topics.name(EVENTS), topics.name(FEEDBACK)]
        super().__init__(sessions, bootstrap_servers, topics, names, _record, name=CONSUMER_NAME, group_id=group_id,
                         log=log, batch_size=batch_size, poll_timeout_s=poll_timeout_s, decode=decode,
                         on_applied=lambda fresh: RECORDED.labels("recorded" if fresh else "duplicate").inc())


def main() -> None:
    """`cadenza run analytics`: the analytics consumer in the foreground until SIGINT/SIGTERM."""
    settings = AnalyticsSettings()
    run_in_foreground("analytics", settings, lambda sessions: AnalyticsConsumer(
        sessions, settings.bootstrap_servers, settings.topics, group_id=settings.group_id,
        batch_size=settings.batch_size, poll_timeout_s=settings.poll_timeout_s), log, applied="recorded")
