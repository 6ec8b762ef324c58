"""Reading, replaying and purging dead letters (`cadenza dlq`).

A letter is identified by where it sits on ``compositions.dlq`` (``partition:offset``). It shows
why and where it failed (the ``dlq-*`` headers :mod:`stream_processors.dead_letter` adds), and its
payload decoded where it can be (an Avro event as JSON, a JSON value as itself, else the first bytes
in hex).

Replay publishes the original key, value and headers (without the ``dlq-*`` ones) back to the
origin topic and writes a marker for the letter to the compacted ``compositions.dlq-replays``, both
in one Kafka transaction: the letter is marked replayed exactly when its replay is visible, and a
letter already marked is never replayed again. The transactional id is fixed per deployment, so a
second replaying operator fences the first (whose commit then fails) instead of both replaying:
check-then-act is safe. Markers and letters share the 30-day retention.

Purge deletes letters older than an age, oldest first (Kafka deletes a partition's prefix), and
stops at the first letter not yet replayed unless told otherwise: what nobody looked at is kept.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

from infra.topics import DLQ, DLQ_REPLAYS, Topics
from producers.kafka_publisher import KafkaPublisher
from schemas import wire
from stream_processors.dead_letter import header

DLQ_HEADERS = ("dlq-reason", "dlq-error", "dlq-topic", "dlq-partition", "dlq-offset", "dlq-consumer", "dlq-at")


@dataclass(frozen=True)
class Letter:
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    replayed: dict | None = None

    @property
    def id(self) -> str:
        return f"{self.partition}:{self.offset}"

    def dlq(self, name: str) -> str | None:
        return header(self.headers, f"dlq-{name}")

    @property
    def original_headers(self) -> list[tuple[str, bytes]]:
        return [(k, v) for k, v in self.headers if not k.startswith("dlq-")]

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "reason": self.dlq("reason"), "consumer": self.dlq("consumer"),
                "origin": {"topic": self.dlq("topic"), "partition": _int(self.dlq("partition")),
                           "offset": _int(self.dlq("offset"))},
                "dead_lettered_at": self.dlq("at"), "replayed": self.replayed}

    def details(self, decode: Callable[[bytes], Any] = wire.decode) -> dict[str, Any]:
        return {**self.summary(), "error": self.dlq("error"),
                "key": self.key.decode(errors="replace") if self.key is not None else None,
                "headers": {k: v.decode(errors="replace") for k, v in self.original_headers if v is not None},
                "size_bytes": len(self.value or b""), "payload": payload_of(self.value, decode)}


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.lstrip("-").isdigit() else None


def payload_of(value: bytes | None, decode: Callable[[bytes], Any] = wire.decode) -> dict[str, Any]:
    """The letter's value as far as it can be read: an event, JSON, or hex."""
    if value is None:
        return {"format": "none"}
    try:
        event = decode(value)
        return {"format": "avro", "type": type(event).__name__, "event": event.model_dump(mode="json")}
    except Exception as exc:  # noqa: BLE001 - undecodable is what many letters are; say why
        avro_error = f"{type(exc).__name__}: {exc}"
    try:
        return {"format": "json", "value": json.loads(value), "avro_error": avro_error}
    except (ValueError, UnicodeDecodeError):
        return {"format": "bytes", "hex": value[:64].hex(), "avro_error": avro_error}


class DeadLetters:
    """The DLQ of one deployment (``topics``), read from the beginning each time (it is small)."""

    def __init__(self, bootstrap_servers: str, topics: Topics) -> None:
        self.bootstrap = bootstrap_servers
        self.topic = topics.name(DLQ)
        self.replays_topic = topics.name(DLQ_REPLAYS)
        self.transactional_id = f"cadenza-dlq-replay-{topics.prefix or 'default'}"

    def _read(self, topic: str, timeout: float = 10.0) -> Iterable:
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "cadenza-dlq-tool",
                             "enable.auto.commit": False, "isolation.level": "read_committed",
                             "enable.partition.eof": True})
        try:
            metadata = consumer.list_topics(topic, timeout=timeout).topics[topic]
            if metadata.error is not None:
                raise KafkaException(metadata.error)
            ends = {}
            for p in metadata.partitions:
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)
                if high > low:
                    ends[p] = high
            consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
            deadline = time.monotonic() + timeout
            while ends and time.monotonic() < deadline:
                message = consumer.poll(0.5)
                if message is None:
                    continue
                if message.error():
                    if message.error().code() == KafkaError._PARTITION_EOF:  # read to the (last stable) end
                        ends.pop(message.partition(), None)
                    continue
                if message.offset() >= ends.get(message.partition(), 0) - 1:
                    ends.pop(message.partition(), None)
                yield message
        finally:
            consumer.close()

    def markers(self) -> dict[str, dict]:
        found: dict[str, dict] = {}
        for message in self._read(self.replays_topic):
            letter_id = message.key().decode()
            if message.value() is None:
                found.pop(letter_id, None)
            else:
                found[letter_id] = json.loads(message.value())
        return found

    def letters(self) -> list[Letter]:
        markers = self.markers()
        return [Letter(m.partition(), m.offset(), m.timestamp()[1], m.key(), m.value(), list(m.headers() or []),
                       markers.get(f"{m.partition()}:{m.offset()}")) for m in self._read(self.topic)]

    def get(self, letter_id: str) -> Letter:
        wanted = normalise(letter_id)
        for letter in self.letters():
            if letter.id == wanted:
                return letter
        raise LookupError(f"no dead letter {wanted} on {self.topic}")

    def replay(self, letter_ids: Iterable[str], by: str = "cadenza dlq") -> list[ReplayResult]:
        """Replay each letter once, in one transaction: the originals back to their topics, the markers."""
        wanted = [normalise(i) for i in letter_ids]
        publisher = KafkaPublisher(self.bootstrap, client_id="cadenza-dlq-replay",
                                   transactional_id=self.transactional_id)  # fences an earlier replayer
        letters = {letter.id: letter for letter in self.letters()}  # read after fencing: markers are current
        results: list[ReplayResult] = []
        publisher.begin()
        try:
            for letter_id in wanted:
                letter = letters.get(letter_id)
                if letter is None:
                    results.append(ReplayResult(letter_id, "missing"))
                elif letter.replayed is not None or any(r.letter_id == letter_id and r.status == "replayed"
                                                        for r in results):
                    results.append(ReplayResult(letter_id, "already replayed", letter.replayed))
                elif not letter.dlq("topic"):
                    results.append(ReplayResult(letter_id, "no origin topic"))
                else:
                    marker = {"replayed_at": datetime.now(timezone.utc).isoformat(), "by": by,
                              "topic": letter.dlq("topic")}
                    publisher.publish_raw(letter.dlq("topic"), letter.value, key=letter.key,
                                          headers=letter.original_headers)
                    publisher.publish_raw(self.replays_topic, json.dumps(marker).encode(), key=letter_id.encode())
                    results.append(ReplayResult(letter_id, "replayed", marker))
            publisher.commit()
        except BaseException:
            publisher.abort()
            raise
        return results

    def purge(self, older_than_s: float, include_unreplayed: bool = False) -> int:
        """Delete the letters older than ``older_than_s``, oldest first, stopping at the first younger one
        (and at the first one not replayed, unless ``include_unreplayed``); how many were deleted."""
        cutoff_ms = (time.time() - older_than_s) * 1000
        delete_before: dict[int, int] = {}
        stopped: set[int] = set()
        deleted = 0
        for letter in self.letters():  # each partition in offset order
            if letter.partition in stopped:
                continue
            if letter.timestamp_ms > cutoff_ms or (letter.replayed is None and not include_unreplayed):
                stopped.add(letter.partition)
                continue
            delete_before[letter.partition] = letter.offset + 1
            deleted += 1
        if delete_before:
            admin = AdminClient({"bootstrap.servers": self.bootstrap})
            futures = admin.delete_records([TopicPartition(self.topic, p, o) for p, o in delete_before.items()])
            for future in futures.values():
                future.result(30)
        return deleted


@dataclass(frozen=True)
class ReplayResult:
    letter_id: str
    status: str  # replayed, already replayed, missing, no origin topic
    marker: dict | None = field(default=None)


def normalise(letter_id: str) -> str:
    """``5`` means ``0:5`` (the DLQ has one partition); anything else must be ``partition:offset``."""
    partition, _, offset = letter_id.strip().rpartition(":")
    partition = partition or "0"
    if not (partition.isdigit() and offset.isdigit()):
        raise ValueError(f"{letter_id!r} is not a dead letter id (partition:offset, or an offset)")
    return f"{int(partition)}:{int(offset)}"
