"""Small helpers for tests that read what was published (real broker, fresh group per test)."""

from __future__ import annotations

import time

from confluent_kafka import Consumer, Message


def consume(bootstrap: str, topics: list[str], group_id: str, count: int, *, timeout: float = 20.0,
            read_committed: bool = True) -> list[Message]:
    """Read up to ``count`` messages from the start of ``topics`` within ``timeout`` seconds."""
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": group_id,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "isolation.level": "read_committed" if read_committed else "read_uncommitted",
    })
    consumer.subscribe(topics)
    messages: list[Message] = []
    deadline = time.monotonic() + timeout
    try:
        while len(messages) < count and time.monotonic() < deadline:
            message = consumer.poll(0.25)
            if message is None or message.error():
                continue
            messages.append(message)
    finally:
        consumer.close()
    return messages
