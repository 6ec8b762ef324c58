"""The projector on the real broker and database: rows from events, poison to the DLQ, replay is idempotent."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete, select

from composition.events import CancelRequested, CompositionCompleted
from infra.database import make_engine, make_session_factory
from infra.topics import DLQ, EVENTS
from producers.kafka_publisher import KafkaPublisher
from readmodel.models import Composition, CompositionEvent, CompositionStage
from storage.local import LocalArtifactStore
from stream_processors.projector import Projector
from tests.integration.api_harness import completed_context, progress_events
from tests.integration.kafka_helpers import consume

pytestmark = pytest.mark.integration


@pytest.fixture
def sessions(database_url):
    engine = make_engine(database_url, pool_size=2)
    yield make_session_factory(engine)
    engine.dispose()


def run(projector: Projector, until, rounds: int = 60) -> None:
    for _ in range(rounds):
        projector.poll_once()
        if until():
            return
    raise AssertionError("the projector did not get there")


def snapshot(sessions, ids):
    with sessions() as session:
        comps = [(c.id, c.tenant_id, c.status, c.progress, c.quality, c.artifacts, c.error, c.duration_ms,
                  c.finished_at, c.updated_at)
                 for c in session.execute(select(Composition).where(Composition.id.in_(ids))
                                          .order_by(Composition.id)).scalars()]
        stages = [(s.composition_id, s.stage, s.status, s.attempt, s.provider, s.duration_ms, s.updated_at)
                  for s in session.execute(select(CompositionStage).where(CompositionStage.composition_id.in_(ids))
                                           .order_by(CompositionStage.composition_id, CompositionStage.stage)).scalars()]
        events = [(e.event_id, e.type, e.payload, e.occurred_at)
                  for e in session.execute(select(CompositionEvent).where(CompositionEvent.composition_id.in_(ids))
                                           .order_by(CompositionEvent.composition_id, CompositionEvent.seq)).scalars()]
    return comps, stages, events  # one composition's events in order; across partitions there is no order


def test_projection_dead_letters_poison_and_replays_to_the_same_rows(sessions, bootstrap_servers, topic_prefix, topics,
                                                                     group_id, tmp_path):
    store = LocalArtifactStore(tmp_path)
    a, b = uuid.uuid4(), uuid.uuid4()
    events = progress_events(a, "acme") + [CompositionCompleted(composition_id=a, tenant_id="acme",
                                                                context=completed_context(store, a), duration_ms=900)]
    events += progress_events(b, "acme")
    with KafkaPublisher(bootstrap_servers) as publisher:
        for i, event in enumerate(events):
            publisher.publish(topics.name(EVENTS), event)
            if i == 1:  # poison in the middle: undecodable bytes, and a command that has no place here
                publisher.publish_raw(topics.name(EVENTS), b"definitely not avro", key=str(a))
                publisher.publish(topics.name(EVENTS), CancelRequested(composition_id=a, tenant_id="acme"))

    projector = Projector(sessions, bootstrap_servers, topics, group_id=group_id, batch_size=3)
    run(projector, lambda: projector.applied == len(events) and projector.dead_lettered == 2)
    projector.close()

    with sessions() as session:
        done = session.get(Composition, a)
        assert done.status == "completed" and done.progress == 1.0 and done.duration_ms == 900
        assert {x["name"] for x in done.artifacts} >= {"master.wav", "arrangement.mid", "vocals.wav"}
        assert done.quality["integrated_lufs"] == -14.0
        assert session.get(Composition, b).status == "running"
        harmony = session.get(CompositionStage, (b, "harmony"))
        assert (harmony.status, harmony.provider, harmony.attempt) == ("running", "backup", 1)
        plan = session.get(CompositionStage, (a, "plan"))
        assert (plan.status, plan.duration_ms) == ("completed", 12)
    dead = consume(bootstrap_servers, [topics.name(DLQ)], group_id + "-dlq", 2, timeout=10)
    reasons = sorted(dict(m.headers())["dlq-reason"].decode() for m in dead)
    assert reasons == ["bad_magic", "unexpected_type"]
    assert all(dict(m.headers())["dlq-consumer"] == b"projector" for m in dead)

    before = snapshot(sessions, [a, b])
    # replay the whole topic with a fresh group: every event is already known, nothing changes
    replay = Projector(sessions, bootstrap_servers, topics, group_id=group_id + "-replay", batch_size=50)
    seen = []
    run(replay, lambda: seen.append(1) or len(seen) > 3 and replay.dead_lettered == 2)
    replay.close()
    assert replay.applied == 0
    assert snapshot(sessions, [a, b]) == before

    # and into an emptied read model, the replay rebuilds the same rows
    with sessions() as session, session.begin():
        for model, column in ((CompositionEvent, CompositionEvent.composition_id),
                              (CompositionStage, CompositionStage.composition_id), (Composition, Composition.id)):
            session.execute(delete(model).where(column.in_([a, b])))
    rebuild = Projector(sessions, bootstrap_servers, topics, group_id=group_id + "-rebuild", batch_size=50)
    run(rebuild, lambda: rebuild.applied == len(events))
    rebuild.close()
    after = snapshot(sessions, [a, b])
    assert after[1:] == before[1:]
    assert after[0] == before[0]


def test_a_voice_profile_or_dj_set_run_is_not_projected_as_a_composition(sessions, bootstrap_servers, topic_prefix,
                                                                         topics, group_id, tmp_path):
    """Another workflow's lifecycle events share compositions.events: they are not poison, and they make
    no composition row (their own read model takes them)."""
    from composition.events import CompositionProgressed, StageProgress
    from composition.models import StageName
    from composition.voices import VoiceContext, VoiceRequest
    from tests.unit.composition.saga_fakes import artifact

    voice, song = uuid.uuid4(), uuid.uuid4()
    context = VoiceContext(request=VoiceRequest(name="me", recording=artifact("recording.wav"), consent=True))
    others = [CompositionProgressed(composition_id=voice, tenant_id="acme", progress=0.5, workflow="voice",
                                    stage=StageName.VOICE_ANALYSE, status="completed",
                                    stages=[StageProgress(stage=StageName.VOICE_ANALYSE, status="completed")]),
              CompositionCompleted(composition_id=voice, tenant_id="acme", context=context, duration_ms=10,
                                   workflow="voice")]
    songs = progress_events(song, "acme")
    with KafkaPublisher(bootstrap_servers) as publisher:
        for event in others + songs:
            publisher.publish(topics.name(EVENTS), event)
    projector = Projector(sessions, bootstrap_servers, topics, group_id=group_id, batch_size=10)
    run(projector, lambda: projector.applied == len(songs))
    for _ in range(5):  # the other workflow's events, wherever their partition is in its turn
        projector.poll_once()
    projector.close()
    assert projector.dead_lettered == 0
    with sessions() as session:
        assert session.get(Composition, voice) is None
        assert session.execute(select(CompositionEvent).where(CompositionEvent.composition_id == voice)).first() is None
        assert session.get(Composition, song).status == "running"
