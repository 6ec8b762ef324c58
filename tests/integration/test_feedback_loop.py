"""The feedback/RL loop on the real broker: ratings of completed songs -> the feedback process ->
PolicyUpdated on the compacted policy topic -> the stage worker hands the policy to the planner.

The fake planner plans pop at 120 bpm: the "fast" third of pop's 96-124 bpm."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer

from composition.events import FeedbackSubmitted, PolicyUpdated
from infra.topics import FEEDBACK, POLICY
from schemas.serde import decode
from tests.integration.pipeline_harness import Pipeline

RATINGS = [5, 5, 4, 5]


@pytest.fixture
def pipeline(bootstrap_servers: str, tmp_path) -> Iterator[Pipeline]:
    pipe = Pipeline(bootstrap_servers, tmp_path)
    pipe.start_saga()
    pipe.start_stages()
    pipe.start_feedback()
    yield pipe
    pipe.close()


def policy_updates(consumer: Consumer, seen: list[PolicyUpdated]) -> list[PolicyUpdated]:
    for message in consumer.consume(num_messages=100, timeout=0.3):
        if not message.error():
            assert message.key() == b"tempo:pop"
            seen.append(decode(message.value()))
    return seen


def test_ratings_become_a_policy_the_planner_is_handed(pipeline: Pipeline) -> None:
    songs = [pipeline.request(theme=f"song {k}") for k in range(len(RATINGS))]
    early = FeedbackSubmitted(composition_id=songs[-1], tenant_id="acme", rating=RATINGS[-1])
    pipeline.publisher.publish(pipeline.prefix + FEEDBACK, early)  # before the song completes: it waits for it
    pipeline.publisher.flush()
    for cid in songs:
        assert type(pipeline.wait_terminal(cid, timeout=90)).__name__ == "CompositionCompleted"
    for cid, rating in zip(songs[:-1], RATINGS):
        feedback = FeedbackSubmitted(composition_id=cid, tenant_id="acme", rating=rating)
        pipeline.publisher.publish(pipeline.prefix + FEEDBACK, feedback)
        pipeline.publisher.publish(pipeline.prefix + FEEDBACK, feedback)  # a redelivery counts once
    pipeline.publisher.flush()

    consumer = Consumer({"bootstrap.servers": pipeline.bootstrap, "group.id": f"policy-{uuid.uuid4().hex}",
                         "auto.offset.reset": "earliest", "isolation.level": "read_committed",
                         "enable.auto.commit": False})
    consumer.subscribe([pipeline.prefix + POLICY])
    seen: list[PolicyUpdated] = []
    try:
        pipeline.wait_for(lambda: any(u.samples == len(RATINGS) for u in policy_updates(consumer, seen)),
                          timeout=60, what="a PolicyUpdated counting every rating")
        pipeline.poll(1.0)
        policy_updates(consumer, seen)
    finally:
        consumer.close()
    assert [u.samples for u in seen] == list(range(1, len(RATINGS) + 1))
    latest = seen[-1]
    assert latest.policy == "tempo:pop" and set(latest.weights) == {"slow", "mid", "fast"}
    assert all(math.isclose(sum(u.weights.values()), 1.0, abs_tol=1e-9) for u in seen)
    assert latest.weights["fast"] > max(latest.weights["slow"], latest.weights["mid"])
    assert seen[0].weights["fast"] < latest.weights["fast"]

    # the next song's planner is handed the learned policy
    state = pipeline.workdir / "fake-state"

    def handed(cid: uuid.UUID) -> dict:
        path = state / f"{cid}-plan-policies.json"
        return json.loads(path.read_text()) if path.exists() else {}

    assert handed(songs[0]) == {}
    for attempt in range(20):  # the worker follows the policy topic on a timer: within a song or two
        cid = pipeline.request(theme=f"after feedback {attempt}")
        pipeline.wait_terminal(cid, timeout=90)
        if handed(cid).get("tempo:pop") == latest.weights:
            break
    else:
        raise AssertionError(f"the planner was never handed the learned policy: {handed(cid)}")
