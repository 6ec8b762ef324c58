"""The Confluent wire format against a real schema registry (the project's Apicurio Registry), and a
consumer on a real Kafka topic that reads both encodings during a migration."""

from __future__ import annotations

import copy
import uuid
from datetime import datetime, timezone

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafka_helpers import consume

from composition.events import (
    EVENT_TYPES,
    CancelRequested,
    CompositionRequested,
    PolicyUpdated,
    StageCompleted,
    StageFailed,
    StageRequested,
)
from composition.models import Artifact, StageName
from infra.net import free_port
from schemas import catalog, serde
from schemas.errors import SchemaRegistryError, SerdeError
from schemas.registry import (
    HEADER_SIZE,
    RegistrySerde,
    SchemaFormat,
    SchemaSettings,
    subject,
    wire_format,
)
from schemas.registry_client import RegistryClient

pytestmark = pytest.mark.integration

AT = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
REQUEST = {"mood": {"valence": 0.4, "arousal": 0.7}, "genres": [{"genre": "pop", "weight": 1}],
           "theme": "a summer road trip", "duration_s": 30}


def _events() -> list:
    cid = uuid.uuid4()
    artifact = Artifact(name="arrangement.mid", uri=f"cas://{cid}/{'a' * 64}/arrangement.mid", sha256="a" * 64,
                        size_bytes=1234, media_type="audio/midi")
    return [
        CompositionRequested(composition_id=cid, tenant_id="acme", request=REQUEST),
        StageRequested(composition_id=cid, tenant_id="acme", stage=StageName.HARMONY, attempt=1, deadline_at=AT,
                       context={"request": REQUEST}),
        StageCompleted(composition_id=cid, tenant_id="acme", stage=StageName.ARRANGEMENT, attempt=2, provider="rules",
                       context={"request": REQUEST}, artifacts=[artifact], started_at=AT, finished_at=AT),
        StageFailed(composition_id=cid, tenant_id="acme", stage=StageName.PLAN, attempt=1, provider="p",
                    error={"code": "provider_unavailable", "message": "down", "retryable": True}),
        PolicyUpdated(composition_id=cid, tenant_id="acme", policy="tempo:pop", weights={"slow": 0.2, "fast": 0.8},
                      samples=7),
        CancelRequested(composition_id=cid, tenant_id="acme"),
    ]


@pytest.fixture(scope="module")
def wire(registry_url: str) -> RegistrySerde:
    """What a process does at start with CADENZA_SCHEMA_FORMAT=confluent: register every schema."""
    wire = wire_format(SchemaSettings(format=SchemaFormat.CONFLUENT, registry_url=registry_url))
    assert wire is not None
    return wire


@pytest.fixture
def client(registry_url: str):
    with RegistryClient(registry_url) as client:
        yield client


def test_every_event_type_is_registered_at_start_under_its_record_name(wire: RegistrySerde,
                                                                       client: RegistryClient) -> None:
    ids = wire.register_all()  # a second start: the same ids, nothing new
    assert set(ids) == set(EVENT_TYPES) and len(set(ids.values())) == len(EVENT_TYPES)
    for event_type, schema_id in ids.items():
        name = subject(event_type)
        assert name == f"dev.cadenza.events.{event_type}"
        assert client.compatibility(name) == "FULL"
        stored = client.schema(schema_id)
        assert stored["name"].rsplit(".", 1)[-1] == event_type
        assert wire.writer_entry(b"\x00" + schema_id.to_bytes(4, "big")).fingerprint == \
            catalog.schema_entry(event_type).fingerprint


def test_events_round_trip_in_the_confluent_format(wire: RegistrySerde) -> None:
    for event in _events():
        data = wire.encode(event)
        schema_id = int.from_bytes(data[1:HEADER_SIZE], "big")
        assert data[:1] == b"\x00" and schema_id == wire.schema_id(type(event).__name__)
        assert data[HEADER_SIZE:] == serde.encode(event)[serde.HEADER_SIZE:]  # the same Avro body
        assert wire.decode(data) == event
        assert wire.decode(data, type(event)) == event
        assert wire.event_type_name(data) == type(event).__name__


def test_a_fresh_process_resolves_ids_through_the_registry(wire: RegistrySerde, registry_url: str) -> None:
    """A consumer that registered nothing still decodes: it looks the writer's id up (and caches it)."""
    event = _events()[2]
    data = wire.encode(event)
    with RegistryClient(registry_url) as client:
        fresh = RegistrySerde(client)
        assert fresh.decode(data) == event
        assert fresh.decode(data) == event


def test_decoding_errors_are_serde_errors_with_a_reason(wire: RegistrySerde) -> None:
    data = wire.encode(_events()[3])
    cases = {
        b"\x00\x00\x00": "truncated",
        b"\x00" + (2**31 - 7).to_bytes(4, "big") + data[HEADER_SIZE:]: "unknown_schema_id",
        data[:-3]: "corrupt_body",
        data + b"\x00": "corrupt_body",
        b"\x7b\"json\": 1}": "bad_magic",
        b"": "truncated",
    }
    for raw, reason in cases.items():
        with pytest.raises(SerdeError) as err:
            wire.decode(raw)
        assert err.value.reason == reason, raw
    with pytest.raises(SerdeError) as err:
        wire.decode(data, CancelRequested)
    assert err.value.reason == "unexpected_type"


def test_an_unreachable_registry_is_a_transient_registry_error_not_a_serde_error(wire: RegistrySerde) -> None:
    data = b"\x00" + (2**31 - 9).to_bytes(4, "big") + b"\x02"
    with RegistryClient(f"http://127.0.0.1:{free_port()}/apis/ccompat/v7", timeout_s=2) as down:
        with pytest.raises(SchemaRegistryError) as err:
            RegistrySerde(down).decode(data)
    assert err.value.transient and not isinstance(err.value, SerdeError)


def test_the_format_setting_is_validated() -> None:
    with pytest.raises(ValueError, match="CADENZA_SCHEMA_REGISTRY_URL must be set"):
        SchemaSettings(format="confluent")
    with pytest.raises(ValueError, match="CADENZA_SCHEMA_FORMAT"):
        SchemaSettings(format="protobuf")
    with pytest.raises(ValueError, match="CADENZA_SCHEMA_COMPATIBILITY"):
        SchemaSettings(registry_url="http://x", compatibility="SOMETIMES")
    assert wire_format(SchemaSettings()) is None  # no registry: plain single-object, schemas.serde


def test_a_consumer_reads_both_encodings_from_one_topic(wire: RegistrySerde, bootstrap_servers: str,
                                                        group_id: str) -> None:
    """Mid-migration: old producers still write single-object, new ones Confluent framing."""
    topic = f"t{uuid.uuid4().hex[:8]}.schema-migration"
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result(timeout=30)
    events = _events()
    producer = Producer({"bootstrap.servers": bootstrap_servers, "enable.idempotence": True})
    sent = []
    for i, event in enumerate(events):
        data = wire.encode(event) if i % 2 else serde.encode(event)
        sent.append(data[:1])
        producer.produce(topic, value=data, key=str(event.composition_id))
    assert producer.flush(30) == 0
    assert sent.count(b"\x00") == 3 and sent.count(b"\xc3") == 3

    messages = consume(bootstrap_servers, [topic], group_id, len(events))
    assert [wire.decode(m.value()) for m in messages] == events
    assert [m.value()[:1] for m in messages] == sent


def _stage_failed_schema() -> dict:
    return copy.deepcopy(catalog.schema_entry("StageFailed").schema)


def test_an_incompatible_schema_change_is_refused_at_full(wire: RegistrySerde, client: RegistryClient) -> None:
    name = subject("StageFailed")
    without_default = _stage_failed_schema()
    without_default["fields"].append({"name": "worker", "type": "string"})  # old data cannot be read: backward
    removed = _stage_failed_schema()
    removed["fields"] = [f for f in removed["fields"] if f["name"] != "provider"]  # old readers break: forward
    with_default = _stage_failed_schema()
    with_default["fields"].append({"name": "worker", "type": ["null", "string"], "default": None})

    assert client.is_compatible(name, with_default)  # what our own compatibility test also lets through
    assert not client.is_compatible(name, without_default)
    assert not client.is_compatible(name, removed)  # BACKWARD alone would have accepted this one
    for broken in (without_default, removed):
        with pytest.raises(SchemaRegistryError) as err:
            client.register(name, broken)
        assert err.value.status == 409 and not err.value.transient
    assert wire.register_all()["StageFailed"] == wire.schema_id("StageFailed")  # the subject is unchanged

    scratch = f"test.{uuid.uuid4().hex[:8]}.StageFailed"  # the level matters: BACKWARD lets the removal through
    client.set_compatibility(scratch, "BACKWARD")
    client.register(scratch, _stage_failed_schema())
    assert client.is_compatible(scratch, removed) and not client.is_compatible(scratch, without_default)
