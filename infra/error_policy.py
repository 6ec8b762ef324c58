"""The one error policy every consumer follows: dead-letter what is poison, retry what is transient.

Every consumer (saga, stage workers, feedback, projector, policy follower) hands the exception that
processing one message raised to :func:`classify`. A message that cannot be decoded, or whose input
no retry can fix, is poison: it goes to ``compositions.dlq`` with the reason and the consumer goes on.
An outage (broker, database, storage) is transient: the consumer raises, its transaction aborts (or
its batch is rolled back) and the same message is processed again. Anything else is a bug in the
face of that message: poison too (``processing_error``), so one bad message never stops a partition.
Nothing is logged and dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from composition.errors import InvalidInput, TransientError
from schemas.errors import SerdeError

_TRANSIENT_MODULES = ("confluent_kafka", "aiokafka", "kafka.", "psycopg2", "botocore", "urllib3")
_ROCKSDB_IO = ("IO error:", "Resource busy:")
_TRANSIENT_SQL = ("OperationalError", "InterfaceError", "DisconnectionError", "TimeoutError")


@dataclass(frozen=True)
class Verdict:
    """What to do with a message whose processing raised: ``retry`` it, or dead-letter it with ``reason``."""

    retry: bool
    reason: str


def is_transient(exc: BaseException) -> bool:
    """An outage rather than a bad message: our TransientError, a connection or timeout, a client
    library's broker/database error (by the library's module, so this needs none of them imported),
    a local table store's I/O error (a partition's RocksDB still locked while it moves here), a send
for a partition a rebalance has just taken away."""
    if isinstance(exc, TransientError | ConnectionError | TimeoutError):
        return True
    if type(exc) is Exception and str(exc).startswith(_ROCKSDB_IO):  # rocksdict raises a bare Exception
        return True
    if type(exc).__name__ == "ProducerSendError" and "No transaction producer" in str(exc):
        return True  # faust: the partition's transactional producer went with it in a rebalance
    module = type(exc).__module__ or ""
    if module.startswith("sqlalchemy"):
        return type(exc).__name__ in _TRANSIENT_SQL
    return module.startswith(_TRANSIENT_MODULES)


def classify(exc: BaseException) -> Verdict:
    if isinstance(exc, SerdeError):
        return Verdict(False, exc.reason.value)
    if isinstance(exc, InvalidInput):
        return Verdict(False, exc.reason)
    if is_transient(exc):
        return Verdict(True, "transient")
    return Verdict(False, "processing_error")


def describe(exc: BaseException) -> str:
    """The error text a dead letter carries."""
    return f"{type(exc).__name__}: {exc}"[:2000]
