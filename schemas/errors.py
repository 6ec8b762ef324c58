"""The errors of the event contract.

Consumers catch exactly one thing when a message cannot become an event: :class:`SerdeError`. Its
``reason`` is machine-readable (a consumer's error policy dead-letters on it and puts the reason in
the DLQ record); its message is for the human reading the DLQ. The library error that caused it is
always chained (``raise SerdeError(...) from exc``) so the traceback keeps the detail.
"""

from __future__ import annotations

from enum import StrEnum

from composition.errors import CadenzaError


class SerdeReason(StrEnum):
    """Why bytes could not become an event (or an event could not become bytes)."""

    TRUNCATED = "truncated"
    """Fewer bytes than the 10-byte single-object header (C3 01 + 8-byte fingerprint)."""
    BAD_MAGIC = "bad_magic"
    """The first two bytes are not C3 01: not Avro single-object encoding."""
    UNKNOWN_FINGERPRINT = "unknown_fingerprint"
    """No current or released schema has the writer's fingerprint."""
    UNEXPECTED_TYPE = "unexpected_type"
    """The writer's event type is not the one the caller asked to read."""
    CORRUPT_BODY = "corrupt_body"
    """The Avro body does not decode with the writer's schema (garbage, cut short, trailing bytes)."""
    INVALID_RECORD = "invalid_record"
    """The body decoded but does not validate into the pydantic model (the domain's rules)."""
    UNENCODABLE = "unencodable"
    """An event could not be encoded (unknown type, naive datetime, value outside the Avro type)."""
    UNKNOWN_SCHEMA_ID = "unknown_schema_id"
    """Confluent wire format: the registry has no schema with the header's id, or it is no event's schema."""


class SerdeError(CadenzaError):
    """A message could not be encoded or decoded; ``reason`` says why, machine-readably.

    ``event_type`` is filled when the header could be read, so a dead-letter record can say what
    kind of event was lost.
    """

    def __init__(self, reason: SerdeReason | str, message: str, *, event_type: str | None = None) -> None:
        self.reason = SerdeReason(reason)
        self.message = message
        self.event_type = event_type
        super().__init__(f"{self.reason.value}: {message}")

    def __reduce__(self):  # picklable (process pools, multiprocessing queues) despite the keyword argument
        return (_rebuild, (self.reason.value, self.message, self.event_type))


class SchemaRegistryError(CadenzaError):
    """The schema registry refused a request (e.g. an incompatible schema, 409) or could not be reached.

    Not a SerdeError on purpose: a registry that is down says nothing about the message, so a
    consumer retries instead of dead-lettering. ``status`` is the HTTP status, None if unreachable.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)

    @property
    def transient(self) -> bool:
        """Worth retrying: unreachable, or the registry's own failure (5xx)."""
        return self.status is None or self.status >= 500

    def __reduce__(self):  # picklable despite the keyword argument
        return (_rebuild_registry_error, (str(self), self.status))


def _rebuild(reason: str, message: str, event_type: str | None) -> SerdeError:
    return SerdeError(reason, message, event_type=event_type)


def _rebuild_registry_error(message: str, status: int | None) -> SchemaRegistryError:
    return SchemaRegistryError(message, status=status)
