"""The latest learned policies, read by every stage worker from the compacted policy topic.

Each worker needs every policy (not the share a consumer group would give it), so this reads all
partitions of ``compositions.policy`` from the beginning with a plain consumer (no group offsets,
read_committed) and keeps the newest weights per policy name. ``poll`` never blocks: the worker calls
it from a timer on its event loop.
"""

from __future__ import annotations

import json
import logging
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from composition.events import PolicyUpdated
from schemas.errors import SerdeError
from schemas.serde import decode

log = logging.getLogger(__name__)


class PolicyFollower:
    def __init__(self, bootstrap_servers: str, topic_name: str) -> None:
        self.topic = topic_name
        self.policies: dict[str, dict[str, float]] = {}
        self._consumer: Consumer | None = None
        self._bootstrap = bootstrap_servers

    def _start(self) -> Consumer:
        consumer = Consumer({"bootstrap.servers": self._bootstrap, "group.id": f"policy-follower-{uuid.uuid4().hex}",
                             "enable.auto.commit": False, "isolation.level": "read_committed"})
        partitions = consumer.list_topics(self.topic, timeout=10).topics[self.topic].partitions
        consumer.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in partitions])
        return consumer

    def poll(self) -> None:
        """Apply whatever arrived since the last call."""
        if self._consumer is None:
            self._consumer = self._start()
        for message in self._consumer.consume(num_messages=500, timeout=0):
            if message.error():
                continue
            if message.value() is None:  # a tombstone: the policy was retired
                self.policies.pop(message.key().decode(errors="replace"), None)
                continue
            try:
                event = decode(message.value())
            except SerdeError as exc:  # the feedback process dead-letters its own input; here keep the last good value
                log.warning("unreadable policy at %s[%s]@%s: %s", message.topic(), message.partition(), message.offset(), exc)
                continue
            if isinstance(event, PolicyUpdated):
                self.policies[event.policy] = dict(event.weights)

    def as_json(self) -> str:
        return json.dumps(self.policies, sort_keys=True)

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
