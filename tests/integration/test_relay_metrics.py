"""The relay's gauges and error counter on the real database: the backlog and the oldest unsent row's
age follow the outbox, and messages the broker does not acknowledge are counted as publish errors."""

from __future__ import annotations

import time

import pytest
from prometheus_client import REGISTRY

from producers.kafka_publisher import PublishError
from producers.outbox_relay import OutboxRelay
from tests.integration.api_harness import fresh_database  # noqa: F401 - the fixture
from tests.integration.test_outbox_relay import queue, sessions  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration


def sample(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


def test_backlog_gauges_follow_the_outbox_and_unacknowledged_messages_count(sessions, bootstrap_servers,  # noqa: F811
                                                                            topics):
    relay = OutboxRelay(sessions, bootstrap_servers)
    relay.refresh_gauges(force=True)
    assert sample("cadenza_outbox_backlog_messages") == 0 and sample("cadenza_outbox_oldest_unsent_age_seconds") == 0
    queue(sessions, topics, 3)
    time.sleep(1.1)
    relay.refresh_gauges(force=True)
    assert sample("cadenza_outbox_backlog_messages") == 3
    assert 1.0 <= sample("cadenza_outbox_oldest_unsent_age_seconds") < 60
    assert relay.run_once() == 3
    relay.refresh_gauges(force=True)
    assert sample("cadenza_outbox_backlog_messages") == 0 and sample("cadenza_outbox_oldest_unsent_age_seconds") == 0
    relay.close()

    # nobody answers on port 1: the batch fails, its messages count as publish errors, the rows stay
    errors_before = sample("cadenza_outbox_publish_errors_total")
    down = OutboxRelay(sessions, "127.0.0.1:1", ack_timeout_s=1.0)
    queue(sessions, topics, 2)
    with pytest.raises(PublishError) as failed:
        down.run_once()
    down._failed(failed.value)  # what the polling loop does with the error
    assert sample("cadenza_outbox_publish_errors_total") - errors_before == 2
    down.refresh_gauges(force=True)
    assert sample("cadenza_outbox_backlog_messages") == 2
