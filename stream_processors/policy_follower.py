"""The latest learned policies, read by every stage worker with the plan stage from the compacted
policy topic.

Each worker needs every policy (not the share a consumer group would give it), so this reads all
partitions of ``compositions.policy`` from the beginning with a plain consumer (no group offsets,
read_committed) and keeps the newest weights per policy name. ``poll`` never blocks: the worker calls
it from a timer on its event loop. It follows the one error policy: an unreadable policy message is
dead-lettered (the last good weights stay), a broker error is raised.
"""

from __future__ import annotations

import logging
import uuid

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaException,
    Message,
    TopicPartition,
)

from composition.events import PolicyUpdated
from infra.error_policy import classify, describe
from infra.outage_log import librdkafka_config
from infra.topics import DLQ, POLICY, Topics
from producers.kafka_publisher import KafkaPublisher
from schemas import wire
from stream_processors.dead_letter import dead_letter
from stream_processors.metrics import DEAD_LETTERS

log = logging.getLogger(__name__)


class PolicyFollower:
    def __init__(self, bootstrap_servers: str, topics: Topics, process: str) -> None:
        self.topic = topics.name(POLICY)
        self.dlq_topic = topics.name(DLQ)
        self.process = f"{process}-policy-follower"
        self.policies: dict[str, dict[str, float]] = {}
        self._bootstrap = bootstrap_servers
        self._consumer: Consumer | None = None
        self._dlq: KafkaPublisher | None = None

    def _start(self) -> Consumer:
        consumer = Consumer({"bootstrap.servers": self._bootstrap, "group.id": f"policy-follower-{uuid.uuid4().hex}",
                             "enable.auto.commit": False, "isolation.level": "read_committed",
                             **librdkafka_config("policy-follower")})
        partitions = consumer.list_topics(self.topic, timeout=10).topics[self.topic].partitions
        consumer.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in partitions])
        return consumer

    def poll(self) -> None:
        """Apply whatever arrived since the last call."""
        if self._consumer is None:
            self._consumer = self._start()
        for message in self._consumer.consume(num_messages=500, timeout=0):
            if message.error():
                if message.error().fatal():
                    raise KafkaException(message.error())
                continue
            try:
                self._apply(message)
            except Exception as exc:
                verdict = classify(exc)
                if verdict.retry:
                    raise
                self._dead_letter(message, verdict.reason, describe(exc))
        if self._dlq is not None:
            self._dlq.poll()

    def _apply(self, message: Message) -> None:
        if message.value() is None:  # a tombstone: the policy was retired
            self.policies.pop(message.key().decode(errors="replace"), None)
            return
        event = wire.decode(message.value())
        if isinstance(event, PolicyUpdated):
            self.policies[event.policy] = dict(event.weights)

    def _dead_letter(self, message: Message, reason: str, error: str) -> None:
        log.warning("dead-lettering %s[%s]@%s: %s %s", message.topic(), message.partition(), message.offset(),
                    reason, error)
        letter = dead_letter(topic=message.topic(), partition=message.partition(), offset=message.offset(),
                             key=message.key(), value=message.value(), headers=message.headers(), reason=reason,
                             error=error, consumer=self.process)
        if self._dlq is None:
            self._dlq = KafkaPublisher(self._bootstrap, client_id=self.process)
        self._dlq.publish_raw(self.dlq_topic, letter.value, key=letter.key, headers=letter.headers)
        DEAD_LETTERS.labels(self.process, reason).inc()

    def current(self) -> dict[str, dict[str, float]]:
        """The newest weights per policy name (a copy: the caller hands it to another process)."""
        return {name: dict(weights) for name, weights in self.policies.items()}

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
        if self._dlq is not None:
            self._dlq.flush(5)
            self._dlq = None
