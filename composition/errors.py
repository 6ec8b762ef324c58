"""The root of every error Cadenza raises on purpose, and the few kinds every layer agrees on.

A consumer's error policy and the API's problem mapping read these kinds, never error text:
``InvalidInput`` is bad input (a message is poison, a request is a 422), ``NotFound`` a missing or
someone else's resource, ``Conflict`` a request the current state refuses, ``Busy`` a limit that a
later retry can pass, ``TransientError`` an outage that retrying the same work can get past.
"""

from __future__ import annotations


class CadenzaError(Exception):
    """Root of Cadenza's own errors; library errors are wrapped in a subclass with ``from exc``."""


class InvalidInput(CadenzaError, ValueError):
    """Input that no retry can fix (a ValueError too, so pydantic validators may raise it). ``field`` names what is wrong (a request field, a message part)
    and ``reason`` is a short machine-readable code (a dead letter's reason)."""

    def __init__(self, message: str, *, field: str | None = None, reason: str = "invalid_input") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.reason = reason


class NotFound(CadenzaError):
    """No such resource, or another tenant's (the two are never told apart)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"no such {what}")
        self.what = what


class Conflict(CadenzaError):
    """The resource's state refuses the request (finished already, not finished yet, busy with another)."""

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


class Busy(CadenzaError):
    """A limit is reached; the same request can succeed after ``retry_after_s``."""

    def __init__(self, message: str, *, kind: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.retry_after_s = retry_after_s


class TransientError(CadenzaError):
    """An outage (broker, database, storage): the same work can succeed later, so it is retried."""
