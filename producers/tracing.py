"""W3C trace context (``traceparent``) carried in a Kafka header on every Cadenza message."""

from __future__ import annotations

import os
import re

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
HEADER = "traceparent"


def new_traceparent() -> str:
    """Start a new trace (a request entering the system)."""
    return f"00-{os.urandom(16).hex()}-{os.urandom(8).hex()}-01"


def child_of(parent: str | None) -> str:
    """The same trace with a new span id; a new trace if ``parent`` is missing or malformed."""
    match = _TRACEPARENT.match(parent or "")
    if not match:
        return new_traceparent()
    return f"00-{match[1]}-{os.urandom(8).hex()}-{match[3]}"


def trace_id(traceparent: str | None) -> str | None:
    match = _TRACEPARENT.match(traceparent or "")
    return match[1] if match else None
