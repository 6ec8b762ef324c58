"""The outbox relay on the real broker and database: publishes once, several relays side by side,
and rows wait (unsent) while no broker answers, then flow when one does."""

from __future__ import annotations

import threading
import uuid

import pytest

from composition.events import CompositionRequested
from composition.models import CompositionRequest, GenreWeight, Mood
from infra.database import make_engine, make_session_factory, transaction
from infra.topics import REQUESTS
from producers import outbox
from producers.kafka_publisher import PublishError
from producers.outbox_relay import OutboxRelay
from schemas.serde import decode
from tests.integration.api_harness import fresh_database  # noqa: F401 - the fixture
from tests.integration.kafka_helpers import consume

pytestmark = pytest.mark.integration
REQUEST = CompositionRequest(mood=Mood.from_label("calm"), genres=[GenreWeight(genre="lofi", weight=1.0)],
                             theme="rain", duration_s=30)


@pytest.fixture
def sessions(fresh_database):
    engine = make_engine(fresh_database, pool_size=4)
    yield make_session_factory(engine)
    engine.dispose()


def queue(sessions, topics, count: int) -> set[uuid.UUID]:
    ids = set()
    with transaction(sessions) as session:
        for _ in range(count):
            event = CompositionRequested(composition_id=uuid.uuid4(), tenant_id="acme", request=REQUEST)
            outbox.add(session, topics.name(REQUESTS), event)
            ids.add(event.event_id)
    return ids


def published_ids(bootstrap, topics, group_id, expected: int) -> list[uuid.UUID]:
    messages = consume(bootstrap, [topics.name(REQUESTS)], group_id, expected + 1, timeout=4)
    return [decode(m.value()).event_id for m in messages]


def test_relay_publishes_each_row_and_marks_it_sent(sessions, bootstrap_servers, topic_prefix, topics, group_id):
    ids = queue(sessions, topics, 25)
    relay = OutboxRelay(sessions, bootstrap_servers, batch_size=10)
    while relay.run_once():
        pass
    relay.close()
    assert relay.backlog() == 0
    got = published_ids(bootstrap_servers, topics, group_id, 25)
    assert sorted(got) == sorted(ids)
    [message] = consume(bootstrap_servers, [topics.name(REQUESTS)], group_id + "-h", 1)
    headers = dict(message.headers())
    assert headers["event-type"] == b"CompositionRequested" and headers["traceparent"].startswith(b"00-")


def test_several_relays_publish_every_row_exactly_once(sessions, bootstrap_servers, topic_prefix, topics, group_id):
    ids = queue(sessions, topics, 300)
    relays = [OutboxRelay(sessions, bootstrap_servers, batch_size=20, idle_s=0.05) for _ in range(3)]
    counts = [0, 0, 0]

    def drain(index: int) -> None:
        while True:
            sent = relays[index].run_once()
            counts[index] += sent
            if not sent and relays[index].backlog() == 0:
                return

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for relay in relays:
        relay.close()
    got = published_ids(bootstrap_servers, topics, group_id, 300)
    assert len(got) == 300 and set(got) == ids  # none twice, none missing
    assert sum(counts) == 300 and sum(1 for c in counts if c) >= 2, counts  # the work was shared


def test_rows_wait_while_no_broker_answers_then_flow(sessions, bootstrap_servers, topic_prefix, topics, group_id):
    """Kafka 'down' is a relay pointed at an address where nothing listens (the shared broker keeps
    running for other tests); the same rows are then published by a relay that reaches the broker."""
    ids = queue(sessions, topics, 5)
    down = OutboxRelay(sessions, "127.0.0.1:1", ack_timeout_s=1.5)
    with pytest.raises(PublishError):
        down.run_once()
    ids |= queue(sessions, topics, 5)  # requests keep arriving meanwhile
    assert down.backlog() == 10
    up = OutboxRelay(sessions, bootstrap_servers)
    while up.run_once():
        pass
    up.close()
    assert up.backlog() == 0
    assert sorted(published_ids(bootstrap_servers, topics, group_id, 10)) == sorted(ids)
