"""The dead-letter record: the original message, untouched, plus why and where it failed.

Every consumer that cannot decode or process a message sends this to ``compositions.dlq`` and goes
on. The original key, value and headers are kept so an operator can replay it after a fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone


@dataclass(frozen=True)
class DeadLetter:
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


def dead_letter(*, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None,
                headers: list[tuple[str, bytes]] | None, reason: str, error: str, consumer: str) -> DeadLetter:
    """Build the DLQ message for a message that failed with ``reason`` (a short code) and ``error``."""
    kept = [(k, v) for k, v in (headers or []) if not k.startswith("dlq-")]
    kept += [
        ("dlq-reason", reason.encode()),
        ("dlq-error", error[:2000].encode()),
        ("dlq-topic", topic.encode()),
        ("dlq-partition", str(partition).encode()),
        ("dlq-offset", str(offset).encode()),
        ("dlq-consumer", consumer.encode()),
        ("dlq-at", datetime.now(timezone.utc).isoformat().encode()),
    ]
    return DeadLetter(key=key, value=value, headers=kept)


def header(headers: list[tuple[str, bytes]] | None, name: str) -> str | None:
    for key, value in headers or []:
        if key == name:
            return value.decode(errors="replace") if value is not None else None
    return None
