"""The one error policy: poison is dead-lettered with its reason, outages are retried."""

from __future__ import annotations

import pytest

from composition.errors import InvalidInput, TransientError
from infra.error_policy import classify, is_transient
from producers.kafka_publisher import PublishError
from schemas.errors import SerdeError, SerdeReason


def _library_error(module: str, name: str = "SomeError") -> Exception:
    return type(name, (Exception,), {"__module__": module})("boom")


@pytest.mark.parametrize("exc", [TransientError("down"), PublishError([("t", "timeout")]), ConnectionRefusedError(),
                                 TimeoutError(), _library_error("confluent_kafka.cimpl", "KafkaException"),
                                 _library_error("aiokafka.errors", "KafkaConnectionError"),
                                 _library_error("sqlalchemy.exc", "OperationalError")])
def test_outages_are_retried(exc):
    assert is_transient(exc) and classify(exc).retry


def test_poison_is_dead_lettered_with_its_reason():
    assert classify(SerdeError(SerdeReason.BAD_MAGIC, "not avro")) .reason == "bad_magic"
    assert classify(InvalidInput("no", reason="bad_tick")).reason == "bad_tick"
    verdict = classify(KeyError("a bug meeting this message"))
    assert not verdict.retry and verdict.reason == "processing_error"
    assert not classify(_library_error("sqlalchemy.exc", "IntegrityError")).retry


def test_a_rocksdb_lock_held_by_another_owner_is_retried_not_dead_lettered(tmp_path):
    import rocksdict

    held = rocksdict.Rdict(str(tmp_path / "db"))  # a partition's store another owner has not let go yet
    try:
        with pytest.raises(Exception) as raised:
            rocksdict.Rdict(str(tmp_path / "db"))
        assert "lock" in str(raised.value).lower()
        assert classify(raised.value).retry
    finally:
        held.close()
    assert not classify(Exception("a bug with a plain Exception")).retry


def test_a_send_for_a_partition_a_rebalance_took_away_is_retried():
    from faust.exceptions import ProducerSendError

    assert classify(ProducerSendError("No transaction producer found for : app-1-1")).retry
    assert not classify(ProducerSendError("something else")).retry
