"""W3C trace context (``traceparent``) carried in a Kafka header on every Cadenza message.

When an OpenTelemetry span is being recorded (``infra/tracing.py``), the context a message carries
is that span's: the hop that publishes is the parent of the hop that reads. Without tracing, each
hop still gets a fresh span id in the same trace id.
"""

from __future__ import annotations

import os
import re

from opentelemetry import trace

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
HEADER = "traceparent"


def _recording() -> str | None:
    """The traceparent of the OpenTelemetry span being recorded now, if any."""
    span = trace.get_current_span()
    if not span.is_recording():
        return None
    context = span.get_span_context()
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


def new_traceparent() -> str:
    """Start a new trace (a request entering the system), or carry the span being recorded."""
    return _recording() or f"00-{os.urandom(16).hex()}-{os.urandom(8).hex()}-01"


def child_of(parent: str | None) -> str:
    """The span being recorded (a child of ``parent`` by construction), else the same trace with a new
    span id; a new trace if ``parent`` is missing or malformed."""
    recording = _recording()
    if recording:
        return recording
    match = _TRACEPARENT.match(parent or "")
    if not match:
        return new_traceparent()
    return f"00-{match[1]}-{os.urandom(8).hex()}-{match[3]}"


def trace_id(traceparent: str | None) -> str | None:
    match = _TRACEPARENT.match(traceparent or "")
    return match[1] if match else None
