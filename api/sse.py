"""Server-Sent Events framing (the WHATWG event-stream format)."""

from __future__ import annotations

import json
from typing import Any

MEDIA_TYPE = "text/event-stream"


def frame(data: dict[str, Any], *, event: str | None = None, event_id: int | str | None = None) -> bytes:
    """One event: ``id``, ``event`` and a single-line JSON ``data`` field, then a blank line."""
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if event:
        lines.append(f"event: {event}")
    lines.append("data: " + json.dumps(data, separators=(",", ":")))
    return ("\n".join(lines) + "\n\n").encode()


def comment(text: str) -> bytes:
    """A comment line: keeps proxies and clients from timing out an idle stream."""
    return f": {text}\n\n".encode()


def retry(ms: int) -> bytes:
    return f"retry: {ms}\n\n".encode()


def parse_last_event_id(value: str | None) -> int:
    """The sequence number to resume after; 0 (from the start) for a missing or foreign value."""
    try:
        return max(0, int((value or "0").strip()))
    except ValueError:
        return 0
