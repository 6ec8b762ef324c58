"""Events to bytes and back: Avro single-object encoding, as the Avro specification defines it.

A message is ``C3 01`` (the marker), the 8-byte little-endian CRC-64-AVRO fingerprint of the
writer's schema, then the Avro binary body. The fingerprint is how a reader finds the writer's
schema (current or released, see ``schemas/catalog.py``) and so the event type; the body is then
resolved from the writer's schema to the reader's current one, so old data still decodes.

Every failure raises :class:`schemas.errors.SerdeError` with a machine-readable reason; consumers
dead-letter on it. The trace context is not part of the body: it travels as a Kafka header.
"""

from __future__ import annotations

from io import BytesIO
from typing import TypeVar, overload

from fastavro import schemaless_reader, schemaless_writer
from pydantic import ValidationError

import schemas.catalog as catalog
from composition.events import EVENT_TYPES, Envelope
from schemas.convert import from_dict, to_dict
from schemas.errors import SerdeError, SerdeReason

MAGIC = b"\xc3\x01"
HEADER_SIZE = len(MAGIC) + 8

E = TypeVar("E", bound=Envelope)


def header(event_type: str) -> bytes:
    """The 10-byte single-object header for the current schema of ``event_type``."""
    return MAGIC + catalog.schema_entry(event_type).fingerprint


def encode(event: Envelope) -> bytes:
    """``event`` as an Avro single-object message written with its type's current schema.

    Raises SerdeError(``unencodable``) if the event has no schema or holds a value the schema
    cannot carry (a naive datetime, an int beyond Avro's ``long``, a string that is not UTF-8).
    """
    entry, body = encode_body(event)
    return MAGIC + entry.fingerprint + body


def encode_body(event: Envelope) -> tuple[catalog.SchemaEntry, bytes]:
    """The current schema of ``event``'s type and the Avro binary body written with it, no header.

    The part every wire format shares (single-object here, Confluent's in schemas/registry.py).
    Raises SerdeError(``unencodable``) as :func:`encode` does.
    """
    event_type = type(event).__name__
    try:
        entry = catalog.schema_entry(event_type)
    except KeyError as exc:
        raise SerdeError(SerdeReason.UNENCODABLE, f"no schema for {event_type}", event_type=event_type) from exc
    try:
        record = to_dict(event, wire=True)
        # no fastavro.validate: the writer refuses what it cannot write, and validating unions first
        # costs more than the write itself (it builds an error for every branch that does not match)
        body = BytesIO()
        schemaless_writer(body, entry.parsed, record)
    except Exception as exc:  # fastavro raises ValueError/TypeError/ValidationError/OverflowError
        raise SerdeError(SerdeReason.UNENCODABLE, f"{event_type}: {exc}", event_type=event_type) from exc
    return entry, body.getvalue()


def writer_entry(data: bytes | None) -> catalog.SchemaEntry:
    """The writer's schema named by ``data``'s header; SerdeError if the header is not usable."""
    if data is None:  # e.g. a tombstone on a compacted topic
        raise SerdeError(SerdeReason.TRUNCATED, "no bytes (a null message value)")
    if len(data) < HEADER_SIZE:
        raise SerdeError(SerdeReason.TRUNCATED, f"{len(data)} bytes, fewer than the {HEADER_SIZE}-byte header")
    if data[:2] != MAGIC:
        raise SerdeError(SerdeReason.BAD_MAGIC, f"starts with {bytes(data[:2]).hex()}, not c301 (Avro single-object)")
    fingerprint = bytes(data[2:HEADER_SIZE])
    entry = catalog.writer_schema(fingerprint)
    if entry is None:
        raise SerdeError(SerdeReason.UNKNOWN_FINGERPRINT, f"no known schema has fingerprint {fingerprint.hex()}")
    return entry


def event_type_name(data: bytes) -> str:
    """The event type (``"StageCompleted"``, ...) of a message, from its header alone.

    Lets a consumer route or dead-letter a message before (or without) decoding its body.
    Raises SerdeError (``truncated``, ``bad_magic``, ``unknown_fingerprint``).
    """
    return writer_entry(data).type_name


@overload
def decode(data: bytes, reader: None = None) -> Envelope: ...
@overload
def decode(data: bytes, reader: type[E]) -> E: ...
def decode(data: bytes, reader: type[Envelope] | None = None) -> Envelope:
    """The event in ``data``, read with the writer's schema and resolved to the current one.

    ``reader`` is the event type the caller expects; None accepts whatever type the header names.
    Raises SerdeError with reason ``truncated``, ``bad_magic``, ``unknown_fingerprint``,
    ``unexpected_type``, ``corrupt_body`` or ``invalid_record``.
    """
    return decode_body(writer_entry(data), memoryview(data)[HEADER_SIZE:], reader)


def decode_body(writer: catalog.SchemaEntry, body: bytes | memoryview, reader: type[Envelope] | None = None) -> Envelope:
    """The event in an Avro binary ``body`` written with ``writer``'s schema, resolved to the current one.

    The part every wire format shares once its header has named the writer's schema. Raises
    SerdeError with reason ``unexpected_type``, ``corrupt_body`` or ``invalid_record``.
    """
    event_type = writer.type_name
    if reader is not None and reader.__name__ != event_type:
        raise SerdeError(
            SerdeReason.UNEXPECTED_TYPE, f"expected {reader.__name__}, got {event_type}", event_type=event_type
        )
    model_type = EVENT_TYPES[event_type]
    current = catalog.schema_entry(event_type)
    stream = BytesIO(bytes(body))
    try:
        resolve_to = None if writer.fingerprint == current.fingerprint else current.parsed
        record = schemaless_reader(stream, writer.parsed, resolve_to)
    except Exception as exc:  # garbage bytes surface as EOFError, ValueError, IndexError, UnicodeDecodeError...
        raise SerdeError(SerdeReason.CORRUPT_BODY, f"{event_type}: {exc!r}", event_type=event_type) from exc
    trailing = len(body) - stream.tell()
    if trailing:
        raise SerdeError(SerdeReason.CORRUPT_BODY, f"{event_type}: {trailing} bytes after the body", event_type=event_type)
    try:
        return from_dict(model_type, record)
    except (ValidationError, ValueError, TypeError) as exc:
        raise SerdeError(SerdeReason.INVALID_RECORD, f"{event_type}: {exc}", event_type=event_type) from exc
