"""Round trip through the wire format: for every event type, any valid event encodes to Avro
single-object bytes and decodes to an equal event; and the conversion rules of schemas/convert.py."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_strategies import events

from composition.events import (
    EVENT_TYPES,
    CancelRequested,
    PolicyUpdated,
    StageFailed,
    StageRequested,
)
from composition.models import Artifact, StageName
from schemas import catalog
from schemas.convert import from_dict, to_dict
from schemas.errors import SerdeError
from schemas.serde import HEADER_SIZE, MAGIC, decode, encode, event_type_name

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_any_valid_event_round_trips(event_type):
    @SETTINGS
    @given(events(event_type))
    def round_trip(event):
        data = encode(event)
        assert data[:2] == MAGIC
        assert data[2:HEADER_SIZE] == catalog.schema_entry(event_type).fingerprint
        assert event_type_name(data) == event_type
        assert decode(data) == event
        assert decode(data, reader=type(event)) == event

    round_trip()


def _cancel(**kw) -> CancelRequested:
    return CancelRequested(composition_id=uuid.uuid4(), tenant_id="acme", **kw)


def test_datetimes_travel_as_utc_milliseconds():
    cet = timezone(timedelta(hours=1))
    at = datetime(2024, 5, 1, 12, 30, 15, 123987, tzinfo=cet)
    decoded = decode(encode(_cancel(occurred_at=at)))
    assert decoded.occurred_at == at.replace(microsecond=123000)
    assert decoded.occurred_at.utcoffset() == timedelta(0)


def test_a_naive_datetime_is_refused_not_guessed():
    import pydantic

    with pytest.raises(pydantic.ValidationError, match="occurred_at"):
        _cancel(occurred_at=datetime(2024, 5, 1, 12, 0))


def test_a_value_beyond_avro_long_is_refused():
    event = StageFailed(composition_id=uuid.uuid4(), tenant_id="acme", stage=StageName.PLAN, attempt=2**64,
                        provider="p", error={"code": "c", "message": "m", "retryable": False})
    with pytest.raises(SerdeError) as err:
        encode(event)
    assert err.value.reason == "unencodable" and err.value.event_type == "StageFailed"


def test_to_dict_gives_avro_ready_values():
    event = StageRequested(composition_id=uuid.uuid4(), tenant_id="acme", stage=StageName.HARMONY, attempt=1,
                           deadline_at=datetime(2030, 1, 1, tzinfo=timezone.utc),
                           context={"request": {"mood": {"valence": 0, "arousal": 0.5},
                                                "genres": [{"genre": "pop", "weight": 1}],
                                                "theme": "rain", "duration_s": 30}})
    record = to_dict(event)
    assert record["stage"] == "harmony" and type(record["stage"]) is str
    assert isinstance(record["composition_id"], uuid.UUID)
    assert record["context"]["request"]["genres"] == [{"genre": "pop", "weight": 1.0}]
    assert record["context"]["plan"] is None
    assert from_dict(StageRequested, record) == event


def test_a_map_field_round_trips():
    policy = PolicyUpdated(composition_id=uuid.uuid4(), tenant_id="acme", policy="tempo",
                           weights={"pop.tempo": 0.25, "": -1e300}, samples=3)
    assert decode(encode(policy)) == policy


@SETTINGS
@given(st.builds(Artifact, name=st.text(), uri=st.text(), sha256=st.from_regex(r"[0-9a-f]{64}", fullmatch=True),
                 size_bytes=st.integers(0, 2**63 - 1), media_type=st.text()))
def test_shared_records_convert_both_ways(artifact):
    assert from_dict(Artifact, to_dict(artifact)) == artifact
