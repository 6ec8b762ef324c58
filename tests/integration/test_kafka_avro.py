"""Avro events through the real broker: keys, headers, transactions, poison messages, the DLQ."""

from __future__ import annotations

import uuid

from confluent_kafka import Producer

from composition.events import CancelRequested, CompositionRequested
from composition.models import CompositionRequest, GenreWeight, Mood
from infra.topics import CONTROL, DLQ, REQUESTS
from producers.kafka_publisher import KafkaPublisher
from producers.tracing import trace_id
from schemas.errors import SerdeError
from schemas.serde import decode, encode
from stream_processors.dead_letter import dead_letter, header
from tests.integration.kafka_helpers import consume


def _requested(tenant: str = "acme") -> CompositionRequested:
    request = CompositionRequest(
        mood=Mood.from_label("hopeful"),
        genres=[GenreWeight(genre="pop", weight=0.7), GenreWeight(genre="funk", weight=0.3)],
        theme="city lights", duration_s=45, seed=7,
    )
    return CompositionRequested(composition_id=uuid.uuid4(), tenant_id=tenant, request=request)


def test_events_round_trip_with_keys_and_headers(bootstrap_servers: str, topic_prefix: str, topics, group_id: str) -> None:
    events = [_requested() for _ in range(5)]
    traceparent = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"
    with KafkaPublisher(bootstrap_servers) as publisher:
        for event in events:
            publisher.publish(topics.name(REQUESTS), event, traceparent=traceparent)
    assert publisher.delivered == 5

    messages = consume(bootstrap_servers, [topics.name(REQUESTS)], group_id, 5)
    assert len(messages) == 5
    by_id = {str(e.composition_id): e for e in events}
    for message in messages:
        decoded = decode(message.value())
        assert message.key().decode() == str(decoded.composition_id)
        assert decoded == by_id[message.key().decode()]
        headers = message.headers()
        assert header(headers, "event-type") == "CompositionRequested"
        assert trace_id(header(headers, "traceparent")) == "ab" * 16


def test_one_compositions_events_stay_in_order(bootstrap_servers: str, topic_prefix: str, topics, group_id: str) -> None:
    first = _requested()
    cancels = [CancelRequested(composition_id=first.composition_id, tenant_id="acme", reason=f"r{i}") for i in range(20)]
    with KafkaPublisher(bootstrap_servers) as publisher:
        for event in cancels:
            publisher.publish(topics.name(CONTROL), event)
    messages = consume(bootstrap_servers, [topics.name(CONTROL)], group_id, 20)
    assert [decode(m.value()).reason for m in messages] == [f"r{i}" for i in range(20)]
    assert len({m.partition() for m in messages}) == 1


def test_read_committed_sees_committed_and_never_aborted(bootstrap_servers: str, topic_prefix: str, topics, group_id: str) -> None:
    committed, aborted = [_requested() for _ in range(3)], [_requested() for _ in range(3)]
    publisher = KafkaPublisher(bootstrap_servers, transactional_id=f"test-{uuid.uuid4()}")
    publisher.begin()
    for event in aborted:
        publisher.publish(topics.name(REQUESTS), event)
    publisher.flush()  # on the broker, inside the open transaction (abort would otherwise purge the queue)
    publisher.abort()
    publisher.begin()
    for event in committed:
        publisher.publish(topics.name(REQUESTS), event)
    publisher.commit()

    seen = consume(bootstrap_servers, [topics.name(REQUESTS)], group_id, 6, timeout=8)
    seen_ids = {decode(m.value()).composition_id for m in seen}
    assert seen_ids == {e.composition_id for e in committed}

    # a read_uncommitted consumer does see the aborted records: the test would notice if abort did nothing
    raw = consume(bootstrap_servers, [topics.name(REQUESTS)], group_id + "-raw", 6, timeout=8, read_committed=False)
    assert {decode(m.value()).composition_id for m in raw} == seen_ids | {e.composition_id for e in aborted}


def test_poison_message_is_rejected_by_name_and_dead_lettered(bootstrap_servers: str, topic_prefix: str, topics, group_id: str) -> None:
    good = _requested()
    producer = Producer({"bootstrap.servers": bootstrap_servers})
    producer.produce(topics.name(REQUESTS), key=b"poison", value=b"\xc3\x01not an avro fingerprint nor body")
    producer.produce(topics.name(REQUESTS), key=b"plain", value=b'{"json": "is not our contract"}')
    producer.produce(topics.name(REQUESTS), key=str(good.composition_id), value=encode(good))
    producer.flush(10)

    decoded, reasons = [], []
    with KafkaPublisher(bootstrap_servers) as dlq:
        for message in consume(bootstrap_servers, [topics.name(REQUESTS)], group_id, 3):
            try:
                decoded.append(decode(message.value()))
            except SerdeError as exc:
                reasons.append(exc.reason)
                letter = dead_letter(topic=message.topic(), partition=message.partition(), offset=message.offset(),
                                     key=message.key(), value=message.value(), headers=message.headers(),
                                     reason=exc.reason, error=str(exc), consumer="test")
                dlq.publish_raw(topics.name(DLQ), letter.value, key=letter.key, headers=letter.headers)
    assert decoded == [good]
    assert len(reasons) == 2

    letters = consume(bootstrap_servers, [topics.name(DLQ)], group_id + "-dlq", 2)
    assert sorted(m.key() for m in letters) == [b"plain", b"poison"]
    for letter in letters:
        assert header(letter.headers(), "dlq-topic") == topics.name(REQUESTS)
        assert header(letter.headers(), "dlq-reason") in reasons
        assert header(letter.headers(), "dlq-offset") is not None

