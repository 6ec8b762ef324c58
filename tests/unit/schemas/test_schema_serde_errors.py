"""Every way bytes can fail to become an event raises SerdeError with its reason, chained to the cause;
and no input at all makes decode raise anything else (a consumer's dead-letter policy relies on it)."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from composition.events import CancelRequested, FeedbackSubmitted, StageFailed
from composition.models import StageName
from schemas.errors import CadenzaError, SerdeError, SerdeReason
from schemas.serde import HEADER_SIZE, MAGIC, decode, encode, event_type_name, header


def _failed() -> StageFailed:
    return StageFailed(composition_id=uuid.uuid4(), tenant_id="acme", stage=StageName.MELODY, attempt=2,
                       provider="local", error={"code": "deadline_exceeded", "message": "late", "retryable": True})


def _reason(data: bytes, **kw) -> SerdeError:
    with pytest.raises(SerdeError) as err:
        decode(data, **kw)
    assert isinstance(err.value, CadenzaError)
    return err.value


@pytest.mark.parametrize("data", [b"", b"\xc3", MAGIC + b"\x00" * 7, None])
def test_fewer_bytes_than_the_header_is_truncated(data):
    assert _reason(data).reason == SerdeReason.TRUNCATED == "truncated"


def test_wrong_magic_is_bad_magic():
    data = encode(_failed())
    err = _reason(b"\x00\x01" + data[2:])
    assert err.reason == "bad_magic"
    assert _reason(b'{"json": "not avro"}').reason == "bad_magic"
    with pytest.raises(SerdeError, match="bad_magic"):
        event_type_name(b"\xc3\x02" + data[2:])


def test_a_fingerprint_no_schema_has_is_unknown_fingerprint():
    data = encode(_failed())
    err = _reason(MAGIC + b"\xde\xad\xbe\xef\x00\x00\x00\x00" + data[HEADER_SIZE:])
    assert err.reason == "unknown_fingerprint" and "deadbeef" in err.message


def test_a_body_cut_short_is_corrupt_body():
    data = encode(_failed())
    err = _reason(data[:-3])
    assert err.reason == "corrupt_body" and err.event_type == "StageFailed"
    assert err.__cause__ is not None


def test_garbage_body_is_corrupt_body():
    # a uuid field whose 36 characters are not a UUID
    err = _reason(header("CancelRequested") + b"\x48" + b"z" * 36 + b"\x00" * 20)
    assert err.reason == "corrupt_body" and isinstance(err.__cause__, ValueError)
    # enum index 200 where StageName has 9 symbols
    event = _failed()
    good = encode(event)
    body = good[HEADER_SIZE:]
    prefix = encode(event.model_copy(update={"stage": StageName.PLAN}))[HEADER_SIZE:]
    at = next(i for i, (a, b) in enumerate(zip(body, prefix)) if a != b)
    assert _reason(good[:HEADER_SIZE + at] + b"\x90\x03" + body[at + 1:]).reason == "corrupt_body"


def test_trailing_bytes_after_the_body_are_corrupt_body():
    err = _reason(encode(_failed()) + b"\x00")
    assert err.reason == "corrupt_body" and "after the body" in err.message


def test_a_decodable_body_that_breaks_the_model_is_invalid_record():
    feedback = FeedbackSubmitted(composition_id=uuid.uuid4(), tenant_id="acme", rating=5)
    data = encode(feedback)
    rating_at = data.rindex(b"\x0a")  # zigzag 5; tags=[] and comment=null follow as two zero bytes
    assert data[rating_at + 1:] == b"\x00\x00"
    err = _reason(data[:rating_at] + b"\x14" + data[rating_at + 1:])  # rating 10, outside 1..5
    assert err.reason == "invalid_record" and "rating" in err.message


def test_a_different_type_than_expected_is_unexpected_type():
    err = _reason(encode(_failed()), reader=CancelRequested)
    assert err.reason == "unexpected_type" and err.event_type == "StageFailed"


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["StageFailed", "CancelRequested", "StageRequested", "PolicyUpdated"]), st.binary(max_size=200))
def test_any_body_either_decodes_or_raises_serde_error(event_type, body):
    try:
        decode(header(event_type) + body)
    except SerdeError as err:
        assert err.reason in {"corrupt_body", "invalid_record"}


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=30))
def test_any_bytes_either_decode_or_raise_serde_error(data):
    try:
        decode(data)
    except SerdeError:
        pass


def test_serde_error_survives_pickling():
    import pickle

    err = pickle.loads(pickle.dumps(SerdeError("corrupt_body", "boom", event_type="StageFailed")))
    assert (err.reason, err.message, err.event_type, str(err)) == ("corrupt_body", "boom", "StageFailed", "corrupt_body: boom")
