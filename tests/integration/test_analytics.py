"""The analytics consumer on the real broker and database: figures from the event stream, requests
and ratings; a replay (a fresh group reading everything again) changes nothing; poison is dead-lettered."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete

from composition.events import (
    CompositionCompleted,
    CompositionFailed,
    CompositionProgressed,
    CompositionRequested,
    Error,
    FeedbackSubmitted,
    StageProgress,
)
from composition.feedback_policy import arm_of
from composition.models import CompositionRequest, GenreWeight, Mood, StageName
from infra.database import make_engine, make_session_factory
from infra.topics import DLQ, EVENTS, FEEDBACK, REQUESTS
from music.genres import blend
from producers.kafka_publisher import KafkaPublisher
from storage.local import LocalArtifactStore
from stream_processors.analytics.consumer import AnalyticsConsumer
from stream_processors.analytics.models import (
    AttemptFact,
    CompositionFact,
    RatingFact,
    SeenEvent,
)
from stream_processors.analytics.queries import figures
from stream_processors.dead_letter import header
from tests.integration.api_harness import completed_context
from tests.integration.kafka_helpers import consume

pytestmark = pytest.mark.integration


@pytest.fixture
def sessions(database_url):
    engine = make_engine(database_url, pool_size=2)
    yield make_session_factory(engine)
    engine.dispose()


def step(cid, tenant, stage, status, attempt, provider, duration_ms=None):
    return CompositionProgressed(composition_id=cid, tenant_id=tenant, progress=0.1, stage=stage, status=status,
                                 stages=[StageProgress(stage=stage, status=status, attempt=attempt, provider=provider,
                                                       duration_ms=duration_ms)])


def drain(consumer: AnalyticsConsumer, expected: int, rounds: int = 80) -> None:
    seen = 0
    for _ in range(rounds):
        seen += consumer.poll_once()
        if seen >= expected:
            return
    raise AssertionError(f"the analytics consumer handled {seen} of {expected} messages")


def test_figures_from_the_streams_and_a_replay_changes_nothing(sessions, bootstrap_servers, topics, group_id,
                                                                 tmp_path):
    tenant = f"an-{uuid.uuid4().hex[:6]}"
    done, failed = uuid.uuid4(), uuid.uuid4()
    context = completed_context(LocalArtifactStore(tmp_path), done)
    sad = CompositionRequest(mood=Mood.from_label("sad"), genres=[GenreWeight(genre="ballad", weight=0.8),
                                                                  GenreWeight(genre="folk", weight=0.2)],
                             theme="rain", duration_s=30)
    requests = [CompositionRequested(composition_id=done, tenant_id=tenant, request=context.request),
                CompositionRequested(composition_id=failed, tenant_id=tenant, request=sad)]
    events = [
        step(done, tenant, StageName.PLAN, "running", 1, "local"),
        step(done, tenant, StageName.PLAN, "retrying", 1, "local"),
        step(done, tenant, StageName.PLAN, "running", 2, "local"),
        step(done, tenant, StageName.PLAN, "completed", 2, "local", duration_ms=40),
        step(done, tenant, StageName.RENDER, "running", 1, "flaky"),
        step(done, tenant, StageName.RENDER, "running", 2, "fluidsynth"),  # a fallback: attempt 1 failed
        step(done, tenant, StageName.RENDER, "completed", 2, "fluidsynth", duration_ms=900),
        CompositionCompleted(composition_id=done, tenant_id=tenant, context=context, duration_ms=1500),
        step(failed, tenant, StageName.PLAN, "running", 1, "local"),
        step(failed, tenant, StageName.PLAN, "failed", 1, "local"),
        CompositionFailed(composition_id=failed, tenant_id=tenant, stage=StageName.PLAN, compensated=[],
                          error=Error(code="invalid_lyrics", message="no", retryable=False)),
    ]
    ratings = [FeedbackSubmitted(composition_id=done, tenant_id=tenant, rating=r) for r in (4, 5)]
    with KafkaPublisher(bootstrap_servers) as publisher:
        for event in requests:
            publisher.publish(topics.name(REQUESTS), event)
        for event in events:
            publisher.publish(topics.name(EVENTS), event)
        for event in ratings:
            publisher.publish(topics.name(FEEDBACK), event)
        publisher.publish_raw(topics.name(EVENTS), b"\x00\x01not avro", key=str(done).encode())
    total = len(requests) + len(events) + len(ratings) + 1

    consumer = AnalyticsConsumer(sessions, bootstrap_servers, topics, group_id=group_id, batch_size=4)
    try:
        drain(consumer, total)
    finally:
        consumer.close()
    assert consumer.applied == total - 1 and consumer.dead_lettered == 1

    with sessions() as session:
        first = figures(session, tenant, days=2)
    plan = context.plan
    third = arm_of(plan.tempo_bpm, blend(plan.genres, plan.seed).tempo)
    [day] = first["daily"]
    assert day["total"] == 2
    assert day["by_status"] == {"completed": 1, "failed": 1}
    assert day["by_genre"] == {"pop": 1, "ballad": 1}
    assert day["by_mood"] == {"happy": 1, "sad": 1}
    stages = {(s["stage"], s["provider"]): s for s in first["stages"]}
    assert stages[("plan", "local")]["attempts"] == 3 and stages[("plan", "local")]["failed"] == 2
    assert stages[("render", "flaky")]["failure_rate"] == 1.0
    assert stages[("render", "fluidsynth")]["failure_rate"] == 0.0
    assert stages[("render", "fluidsynth")]["duration_ms"]["p50"] == 900
    assert first["latency"]["completed"] == 1 and first["latency"]["duration_ms"]["p50"] == 1500
    assert first["ratings"] == [{"genre": "pop", "tempo_third": third, "ratings": 2, "mean_rating": 4.5}]
    [letter] = consume(bootstrap_servers, [topics.name(DLQ)], group_id + "-dlq", 1)
    assert header(letter.headers(), "dlq-consumer") == "analytics"
    assert header(letter.headers(), "dlq-reason") == "bad_magic"

    replay = AnalyticsConsumer(sessions, bootstrap_servers, topics, group_id=group_id + "-replay", batch_size=50)
    try:
        drain(replay, total)
    finally:
        replay.close()
    assert replay.applied == 0
    with sessions() as session:
        assert figures(session, tenant, days=2) == first
        assert figures(session, "another-tenant", days=2)["daily"] == []
        for table in (RatingFact, AttemptFact, CompositionFact):
            session.execute(delete(table).where(table.tenant_id == tenant))
        session.execute(delete(SeenEvent).where(SeenEvent.event_id.in_(
            [e.event_id for e in requests + events + ratings])))
        session.commit()
