"""The feedback handlers against dict tables and a recording sender: join, early ratings, learning."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from composition.errors import InvalidInput
from composition.events import CompositionCompleted, FeedbackSubmitted, PolicyUpdated
from composition.models import CompositionContext, StageName
from infra.topics import FEEDBACK_BY_POLICY, POLICY, Topics
from stream_processors.feedback.handler import FeedbackHandler, rating_of
from tests.unit.composition.saga_fakes import TENANT, Inputs, section

TOPICS = Topics("t.")


class RecordingSender:
    def __init__(self) -> None:
        self.raw: list[tuple[str, bytes, bytes]] = []
        self.events: list[tuple[str, object, bytes]] = []
        self.flushes = 0

    def send_raw(self, topic, value, key, traceparent):
        self.raw.append((topic, value, key))

    def send(self, topic, event, key, traceparent):
        self.events.append((topic, event, key))

    async def delivered(self):
        self.flushes += 1


def completed(inputs: Inputs) -> CompositionCompleted:
    context = CompositionContext(request=inputs.request).with_section(StageName.PLAN, section(StageName.PLAN))
    return CompositionCompleted(composition_id=inputs.composition_id, tenant_id=TENANT, context=context, duration_ms=5)


def rating(inputs: Inputs, stars: int) -> FeedbackSubmitted:
    return FeedbackSubmitted(composition_id=inputs.composition_id, tenant_id=TENANT, rating=stars)


def test_a_rating_before_the_completion_waits_then_is_forwarded_once_delivered():
    sender = RecordingSender()
    handler = FeedbackHandler({}, {}, sender, TOPICS)
    inputs = Inputs()
    early = rating(inputs, 5)
    assert asyncio.run(handler.join(early, None)) == []
    assert sender.raw == []
    asyncio.run(handler.join(completed(inputs), None))
    [(topic, value, key)] = sender.raw
    forwarded = json.loads(value)
    assert topic == TOPICS.name(FEEDBACK_BY_POLICY) and key == forwarded["policy"].encode()
    assert forwarded["rating"] == 5 and forwarded["rating_id"] == str(early.event_id) and sender.flushes == 1
    asyncio.run(handler.join(early, None))  # the same rating again
    assert len(sender.raw) == 1


def test_the_learner_publishes_weights_and_drops_a_repeated_rating():
    sender = RecordingSender()
    handler = FeedbackHandler({}, {}, sender, TOPICS)
    value = json.dumps({"policy": "tempo:pop", "arm": "fast", "rating": 5, "rating_id": str(uuid.uuid4())}).encode()
    updated = asyncio.run(handler.learned(value, None))
    assert isinstance(updated, PolicyUpdated) and updated.samples == 1 and set(updated.weights) >= {"fast"}
    assert sender.events == [(TOPICS.name(POLICY), updated, b"tempo:pop")]
    assert asyncio.run(handler.learned(value, None)) is None


@pytest.mark.parametrize("value", [b"not json", b'{"policy": "p"}', json.dumps(
    {"policy": "p", "arm": "a", "rating": 9, "rating_id": "x"}).encode()])
def test_a_bad_forwarded_rating_is_poison(value):
    with pytest.raises(InvalidInput) as error:
        rating_of(value)
    assert error.value.reason == "bad_rating"
