"""Retention on the real services: the sweeper on PostgreSQL and the artifact folder, the saga's and
stage workers' purge on the real broker (real saga and stage-worker processes, fake instant stages).

Ages are seconds here (the settings take any); the read model is written by the real projection code
from the events the real pipeline published."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource
from sqlalchemy import func, insert, select

from composition.events import CompositionRequested
from composition.models import SONG_STAGES
from infra.database import make_engine, make_session_factory
from infra.topics import REQUESTS
from producers.outbox import OutboxMessage
from readmodel.models import Composition, CompositionEvent, Revision
from readmodel.projection import project
from retention.settings import SweeperSettings
from retention.sweeper import Sweeper
from retention.sweeps import TERMINAL_EVENTS, sweep_event_log, sweep_outbox
from storage.local import LocalArtifactStore
from tests.integration.pipeline_harness import Pipeline

pytestmark = pytest.mark.integration
SAGA_KEEP_S = 8.0


@pytest.fixture
def sessions(database_url):
    engine = make_engine(database_url, pool_size=2)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def pipeline(bootstrap_servers: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """A saga that keeps a finished composition's state for SAGA_KEEP_S, and an all-stages worker."""
    pipe = Pipeline(bootstrap_servers, tmp_path_factory.mktemp("retention"), extra_env={
        "CADENZA_SAGA_PROVIDERS": ";".join(f"{s.value}=local,backup" for s in SONG_STAGES),
        "CADENZA_SAGA_RETENTION_S": str(SAGA_KEEP_S), "CADENZA_SAGA_PURGE_SCAN_S": "0.5",
    })
    pipe.start_saga()
    pipe.start_stages()
    # a request older than the retention is dropped: let the processes start before the tests' requests
    deadline = time.monotonic() + 120
    while True:
        try:
            pipe.wait_terminal(pipe.request("warm-up"), timeout=SAGA_KEEP_S / 2)
            break
        except AssertionError:
            assert time.monotonic() < deadline, pipe.logs()
    yield pipe
    pipe.close()


def project_all(sessions, pipe: Pipeline, composition_id: uuid.UUID) -> None:
    with sessions() as session, session.begin():
        for event in pipe.events[composition_id]:
            project(session, event)


def settings(**ages: float) -> SweeperSettings:
    values = {"outbox_keep_s": 3600.0, "event_log_keep_s": 3600.0, "artifact_grace_s": 3600.0, **ages}
    return SweeperSettings(**values)


# ---------------------------------------------------------------- PostgreSQL


def test_sent_outbox_rows_past_the_setting_go_and_unsent_ones_stay(sessions):
    now = datetime.now(timezone.utc)
    rows = {"old-sent": now - timedelta(hours=2), "new-sent": now - timedelta(minutes=1), "old-unsent": None}
    with sessions() as session, session.begin():
        ids = {}
        for name, sent_at in rows.items():
            ids[name] = session.execute(insert(OutboxMessage).values(
                topic="retention-test", key=name.encode(), value=b"x", created_at=now - timedelta(days=3),
                sent_at=sent_at).returning(OutboxMessage.id)).scalar_one()
    with sessions() as session, session.begin():
        assert sweep_outbox(session, keep_s=3600, batch=500) >= 1
    with sessions() as session:
        left = set(session.execute(select(OutboxMessage.key).where(OutboxMessage.id.in_(ids.values()))).scalars())
    assert left == {b"new-sent", b"old-unsent"}


def test_the_event_log_of_a_long_finished_composition_goes_its_result_stays(pipeline, sessions):
    done, running = pipeline.request("keep me"), pipeline.request("script: master=hang:30")
    pipeline.wait_terminal(done)
    pipeline.wait_for(lambda: pipeline.of_type(running, "CompositionProgressed"), what="progress")
    for cid in (done, running):
        project_all(sessions, pipeline, cid)
    with sessions() as session:
        before = session.execute(select(func.count()).where(CompositionEvent.composition_id == done)).scalar_one()
        result = session.get(Composition, done)
        assert result.status == "completed" and result.artifacts
    assert before > 2
    time.sleep(1.5)
    with sessions() as session, session.begin():
        # other tests' long-finished compositions share the database: at least this one's rows go
        assert sweep_event_log(session, keep_s=1.0, batch=500) >= before - 1
    with sessions() as session:
        left = session.execute(select(CompositionEvent.type).where(CompositionEvent.composition_id == done)).scalars()
        assert list(left) == ["CompositionCompleted"]  # the event stream still answers with its end
        kept = session.get(Composition, done)
        assert (kept.status, kept.artifacts, kept.quality) == ("completed", result.artifacts, result.quality)
        assert session.get(Revision, (done, 0)).status == "completed"
        # a composition still running keeps its whole log, however old
        assert session.execute(select(func.count()).where(CompositionEvent.composition_id == running)
                               ).scalar_one() >= 1
        assert not set(TERMINAL_EVENTS) & set(session.execute(
            select(CompositionEvent.type).where(CompositionEvent.composition_id == running)).scalars())


# ---------------------------------------------------------------- artifacts


def test_a_superseded_attempt_s_artifact_is_deleted_the_accepted_one_stays_and_downloads(pipeline, sessions):
    store = LocalArtifactStore(pipeline.artifact_dir)
    kept_cid, failed_cid = pipeline.request("artifacts kept"), pipeline.request("script: master=fatal")
    completed = pipeline.wait_terminal(kept_cid)
    assert type(pipeline.wait_terminal(failed_cid)).__name__ == "CompositionFailed"
    namespace = str(kept_cid)
    # what a superseded attempt of render left behind (other bytes: another object), and a late result's
    stale = store.put(namespace, "stem-drums.wav", b"render attempt 1, superseded", "audio/wav")
    late = store.put(str(failed_cid), "master.wav", b"a result after the end", "audio/wav")
    for cid in (kept_cid, failed_cid):
        project_all(sessions, pipeline, cid)
    accepted = {a.uri: a for a in completed.context.master.outputs + completed.context.render.stems}
    assert stale.uri not in accepted and set(accepted) <= set(store.list(namespace))
    sweeper = Sweeper(sessions, store, settings(artifact_grace_s=0.5))
    time.sleep(1.0)
    sweeper.step()
    assert store.list(str(failed_cid)) == []  # a failed run keeps nothing
    assert stale.uri not in store.list(namespace)
    for uri, artifact in accepted.items():
        data = store.get(uri)
        assert len(data) == artifact.size_bytes and store.get_range(uri, 0, 3) == data[:4]
    with sessions() as session:
        listed = {a["uri"] for a in session.get(Revision, (kept_cid, 0)).artifacts}
    assert set(store.list(namespace)) == listed  # exactly what the completed run references
    assert late.uri not in store.list(str(failed_cid))
    # swept once: nothing new to do for these two until a later run of them ends
    before = set(store.list(namespace))
    stray = store.put(namespace, "stray.bin", b"after the sweep", "application/octet-stream")
    sweeper.step()
    assert set(store.list(namespace)) == before | {stray.uri}


# ---------------------------------------------------------------- the saga's and stage workers' tables


def changelog(bootstrap: str, topic: str) -> list[tuple[bytes, bytes | None]]:
    """Every committed (key, value) on a changelog topic, from its start to its end now."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"cl-{uuid.uuid4().hex}",
                         "isolation.level": "read_committed", "enable.auto.commit": False})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    found, deadline = [], time.monotonic() + 30

    def behind() -> bool:  # (positions step over the transactions' commit markers too)
        at = consumer.position([TopicPartition(topic, p) for p in partitions])
        return any(ends[tp.partition] > 0 and tp.offset < ends[tp.partition] for tp in at)

    while behind() and time.monotonic() < deadline:
        message = consumer.poll(0.2)
        if message is not None and not message.error():
            found.append((message.key(), message.value()))
    consumer.close()
    return found


def topic_config(bootstrap: str, topic: str) -> dict[str, str]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    [future] = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic)]).values()
    return {name: entry.value for name, entry in future.result(10).items()}


def test_an_old_finished_composition_s_saga_state_is_tombstoned_and_nothing_brings_it_back(pipeline):
    cid = pipeline.request("purge me")
    pipeline.wait_terminal(cid)
    key = str(cid).encode()
    sagas = f"{pipeline.prefix}cadenza-saga-sagas-changelog"
    done = f"{pipeline.prefix}cadenza-stage-all-stage-attempts-done-changelog"
    for topic in (sagas, done, f"{pipeline.prefix}cadenza-saga-saga-purges-changelog"):
        config = topic_config(pipeline.bootstrap, topic)
        assert config["cleanup.policy"] == "compact"  # a tombstone compacts the key away
        assert config["segment.ms"] == "3600000"  # ... once its segment has rolled (CADENZA_CHANGELOG_SEGMENT_S)
    deadline = time.monotonic() + SAGA_KEEP_S + 30
    while True:
        entries = [value for k, value in changelog(pipeline.bootstrap, sagas) if k == key]
        if entries and entries[-1] is None:
            break
        assert time.monotonic() < deadline, f"no tombstone for {cid} in {sagas}"
        time.sleep(1.0)
    assert entries[:-1] and all(entries[:-1])  # its states, then the tombstone
    purges = [v for k, v in changelog(pipeline.bootstrap, f"{pipeline.prefix}cadenza-saga-saga-purges-changelog")
              if k == key]
    assert purges[0] and purges[-1] is None
    while True:  # the stage worker's transaction follows the saga's
        attempts = {k: v for k, v in changelog(pipeline.bootstrap, done) if k.startswith(key)}
        if len(attempts) == 8 and all(v is None for v in attempts.values()):  # every stage's attempt forgotten
            break
        assert time.monotonic() < deadline, f"finished attempts of {cid} not all tombstoned: {attempts}"
        time.sleep(1.0)

    # the same request again (its occurred_at is older than the retention): dropped, no work starts
    again = CompositionRequested(composition_id=cid, tenant_id="acme",
                                 occurred_at=datetime.now(timezone.utc) - timedelta(seconds=SAGA_KEEP_S + 60),
                                 request=pipeline.of_type(cid, "CompositionCompleted")[0].context.request)
    pipeline.publisher.publish(pipeline.prefix + REQUESTS, again)
    pipeline.publisher.flush()
    # a revision now: refused at once, naming why, and no state is stored
    revision = pipeline.revise(cid, "master", {"mix": {"lufs": -12}})
    refused = pipeline.wait_terminal(cid, revision=revision.revision)
    assert type(refused).__name__ == "CompositionFailed" and refused.error.code == "revision_refused"
    assert "purged" in refused.error.message
    pipeline.poll(3.0)
    plans = [e for e in pipeline.of_type(cid, "StageCompleted", source="results") if e.stage.value == "plan"]
    assert len(plans) == 1  # the old request did not start the composition again
    states = [value for k, value in changelog(pipeline.bootstrap, sagas) if k == key]
    assert states[-1] is None  # still purged
