"""The Confluent wire format wired in, against the real Apicurio registry and the real broker: the
setting picks the registry, a consumer of ours (the projector) reads both encodings from one topic,
and a whole composition goes through the real saga and stage-worker processes in the Confluent format."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from composition.events import CompositionProgressed, StageProgress
from composition.models import StageName
from infra.database import make_engine, make_session_factory
from infra.settings import ServiceSettings
from infra.topics import EVENTS, REQUESTS
from producers.kafka_publisher import KafkaPublisher
from readmodel.models import Composition
from schemas import serde, wire
from schemas.registry import MAGIC, SchemaFormat, SchemaSettings, wire_format
from stream_processors.projector import Projector
from tests.integration.kafka_helpers import consume
from tests.integration.pipeline_harness import Pipeline

pytestmark = pytest.mark.integration


@pytest.fixture
def confluent(registry_url: str):
    """This test process writes Confluent framing (and reads both) for the test, as a process would."""
    serde_ = wire.configure(SchemaSettings(format=SchemaFormat.CONFLUENT, registry_url=registry_url))
    yield serde_
    wire.use(None)


def test_the_setting_names_the_projects_own_registry_unless_told_otherwise():
    own = ServiceSettings(schema_format="confluent", registry_port=38181)
    assert own.schema_settings.registry_url == "http://127.0.0.1:38181/apis/ccompat/v7"
    assert not own.registry_external
    assert ServiceSettings().schema_settings.registry_url is None  # single-object needs no registry
    with pytest.raises(ValueError, match="CADENZA_SCHEMA_FORMAT"):
        ServiceSettings(schema_format="protobuf")


def test_the_projector_reads_both_encodings_from_one_topic(confluent, database_url, bootstrap_servers, topics,
                                                           group_id):
    old, new = uuid.uuid4(), uuid.uuid4()

    def progress(cid):
        return CompositionProgressed(composition_id=cid, tenant_id="acme", progress=0.1, stage=StageName.PLAN,
                                     status="running", stages=[StageProgress(stage=StageName.PLAN, status="running",
                                                                             attempt=1, provider="local")])
    with KafkaPublisher(bootstrap_servers) as publisher:  # an old producer, then a migrated one
        publisher.publish_raw(topics.name(EVENTS), serde.encode(progress(old)), key=str(old))
        publisher.publish(topics.name(EVENTS), progress(new))
    raw = consume(bootstrap_servers, [topics.name(EVENTS)], group_id + "-raw", 2)
    assert sorted(m.value()[:1] for m in raw) == sorted([serde.MAGIC[:1], MAGIC])

    engine = make_engine(database_url, pool_size=2)
    projector = Projector(make_session_factory(engine), bootstrap_servers, topics, group_id=group_id)
    try:
        for _ in range(40):
            projector.poll_once()
            if projector.applied == 2:
                break
        assert projector.applied == 2 and projector.dead_lettered == 0
        with make_session_factory(engine)() as session:
            assert set(session.execute(select(Composition.id).where(Composition.id.in_([old, new]))).scalars()) \
                == {old, new}
    finally:
        projector.close()
        engine.dispose()


def test_a_whole_composition_through_the_pipeline_in_the_confluent_format(confluent, registry_url,
                                                                          bootstrap_servers, tmp_path):
    pipeline = Pipeline(bootstrap_servers, tmp_path, extra_env={"CADENZA_SCHEMA_FORMAT": "confluent",
                                                                "CADENZA_SCHEMA_REGISTRY_URL": registry_url})
    try:
        pipeline.start_saga()
        pipeline.start_stages()
        cid = pipeline.request("in the registry's format")
        assert type(pipeline.wait_terminal(cid, timeout=90)).__name__ == "CompositionCompleted"
        published = consume(bootstrap_servers, [pipeline.prefix + REQUESTS, pipeline.prefix + EVENTS],
                            f"raw-{uuid.uuid4().hex}", 200, timeout=10)
        assert published and all(m.value()[:1] == MAGIC for m in published)
        assert {dict(m.headers())["content-type"] for m in published} == {b"application/vnd.confluent.avro"}
        # what the processes registered is what this process reads: the ids resolve in a fresh serde
        fresh = wire_format(SchemaSettings(registry_url=registry_url))
        assert fresh.decode(published[-1].value()).composition_id == cid
    finally:
        pipeline.close()
