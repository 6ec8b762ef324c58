"""The Confluent wire format against a real schema registry, beside Avro single-object encoding.

A Confluent-framed message is ``00`` (the magic byte), the writer schema's registry id as 4 bytes
big-endian, then the same Avro binary body the single-object format carries. The first byte tells
the two apart (``00`` here, ``C3`` for ``C3 01`` single-object), so a consumer reads both during a
migration; what a producer writes is a setting (``CADENZA_SCHEMA_FORMAT``).

Subjects follow the RecordNameStrategy: one subject per event type, named by the record's full name
(``dev.cadenza.events.StageFailed``). Our topics carry several event types each (so the default
TopicNameStrategy cannot hold them), and compatibility is a property of an event type, checked
per type by tests/unit/schemas/test_schema_compatibility.py, not of a topic; TopicRecordNameStrategy
would also repeat every subject per topic (and per test topic prefix). The level is FULL: that test
checks the current schema against the newest release, backward and forward - FULL exactly (FULL_TRANSITIVE
would check every older release too, which our own test does not promise). Each subject is given
the released versions oldest first and then the current one, so the registry's "latest" before the
current schema is the newest release, as in the test.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar, overload

from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form
from pydantic import BaseModel, field_validator, model_validator

from composition.events import EVENT_TYPES, Envelope
from schemas import catalog, serde
from schemas.errors import SerdeError, SerdeReason
from schemas.registry_client import LEVELS, RegistryClient

MAGIC = b"\x00"
HEADER_SIZE = 5  # magic byte + 4-byte schema id
DEFAULT_COMPATIBILITY = "FULL"

E = TypeVar("E", bound=Envelope)


class SchemaFormat(StrEnum):
    SINGLE_OBJECT = "single-object"
    CONFLUENT = "confluent"


class SchemaSettings(BaseModel):
    """Which wire format producers write, and the registry (needed to write or read Confluent framing).

    Built from the settings tree (``ServiceSettings.schema_settings``: ``CADENZA_SCHEMA_FORMAT``,
    ``CADENZA_SCHEMA_REGISTRY_URL``, ``CADENZA_SCHEMA_COMPATIBILITY``), never from the environment here.
    """

    format: SchemaFormat = SchemaFormat.SINGLE_OBJECT
    registry_url: str | None = None  # the Confluent-compatible API's base, e.g. .../apis/ccompat/v7
    compatibility: str = DEFAULT_COMPATIBILITY

    @field_validator("format", mode="before")
    @classmethod
    def _known_format(cls, value: object) -> object:
        if value not in tuple(SchemaFormat) + tuple(f.value for f in SchemaFormat):
            raise ValueError(f"CADENZA_SCHEMA_FORMAT: {value!r} is not one of {', '.join(f.value for f in SchemaFormat)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SchemaSettings:
        if self.format is SchemaFormat.CONFLUENT and not self.registry_url:
            raise ValueError("CADENZA_SCHEMA_REGISTRY_URL must be set when CADENZA_SCHEMA_FORMAT=confluent")
        if self.registry_url is not None and not self.registry_url.startswith(("http://", "https://")):
            raise ValueError(f"CADENZA_SCHEMA_REGISTRY_URL: {self.registry_url!r} is not an http(s):// URL")
        if self.compatibility not in LEVELS:
            raise ValueError(f"CADENZA_SCHEMA_COMPATIBILITY: {self.compatibility!r} is not one of {', '.join(LEVELS)}")
        return self


def subject(event_type: str) -> str:
    """The registry subject of an event type (RecordNameStrategy: the record's full name)."""
    return catalog.schema_entry(event_type).name


class RegistrySerde:
    """Encodes in the configured format; decodes either format by its first byte.

    Registry ids are cached both ways (event type -> id of its current schema, id -> writer
    schema), so the registry is asked once per schema per process. A registry that cannot be
    reached raises SchemaRegistryError (retry), never SerdeError (dead-letter).
    """

    def __init__(self, client: RegistryClient, writes: SchemaFormat = SchemaFormat.CONFLUENT,
                 compatibility: str = DEFAULT_COMPATIBILITY) -> None:
        self.client = client
        self.writes = SchemaFormat(writes)
        self.compatibility = compatibility
        self._ids: dict[str, int] = {}
        self._writers: dict[int, catalog.SchemaEntry] = {}

    def register_all(self) -> dict[str, int]:
        """Set every event type's compatibility level and register its released and current schemas;
        the current schemas' ids by event type. Raises SchemaRegistryError (409) if the registry
        refuses one, i.e. a schema breaks compatibility with what the registry already holds."""
        releases = catalog.released()
        ordered = [releases[v] for v in sorted(releases, key=lambda v: int(v[1:]))]
        for event_type in sorted(EVENT_TYPES):
            name = subject(event_type)
            history = [entries[event_type] for entries in ordered if event_type in entries]
            # a release may break with the one before it (a new major version, read beside the old:
            # see the README's schema versioning), so the releases go in unchecked; the level holds from
            # the newest release on, as tests/unit/schemas/test_schema_compatibility.py checks it
            if len(history) > 1:
                self.client.set_compatibility(name, "NONE")
            for entry in history:
                self._writers.setdefault(self.client.register(name, entry.schema), entry)
            self.client.set_compatibility(name, self.compatibility)
            entry = catalog.schema_entry(event_type)
            schema_id = self.client.register(name, entry.schema)
            self._writers.setdefault(schema_id, entry)
            self._ids[event_type] = schema_id
        return dict(self._ids)

    def schema_id(self, event_type: str) -> int:
        """The registry id of ``event_type``'s current schema (registered on first use if need be)."""
        if event_type not in self._ids:
            entry = catalog.schema_entry(event_type)
            self._ids[event_type] = self.client.register(subject(event_type), entry.schema)
            self._writers.setdefault(self._ids[event_type], entry)
        return self._ids[event_type]

    def encode(self, event: Envelope) -> bytes:
        """``event`` in the configured wire format (SerdeError ``unencodable`` as serde.encode)."""
        if self.writes is SchemaFormat.SINGLE_OBJECT:
            return serde.encode(event)
        entry, body = serde.encode_body(event)
        return MAGIC + self.schema_id(entry.type_name).to_bytes(4, "big") + body

    @overload
    def decode(self, data: bytes, reader: None = None) -> Envelope: ...
    @overload
    def decode(self, data: bytes, reader: type[E]) -> E: ...
    def decode(self, data: bytes, reader: type[Envelope] | None = None) -> Envelope:
        """The event in ``data``, Confluent-framed or single-object, resolved to the current schema.

        Raises SerdeError as serde.decode does, plus ``unknown_schema_id``; ``bad_magic`` when the
        first byte is neither 00 nor C3.
        """
        if data is not None and data[:1] == MAGIC:
            return serde.decode_body(self.writer_entry(data), memoryview(data)[HEADER_SIZE:], reader)
        if data is not None and len(data) > 0 and data[:1] != serde.MAGIC[:1]:
            raise SerdeError(SerdeReason.BAD_MAGIC, f"starts with {bytes(data[:1]).hex()}, neither 00 (Confluent) "
                                                    f"nor c3 (Avro single-object)")
        return serde.decode(data, reader)

    def event_type_name(self, data: bytes) -> str:
        """The event type a message carries, from its header (and the registry) alone."""
        if data is not None and data[:1] == MAGIC:
            return self.writer_entry(data).type_name
        return serde.event_type_name(data)

    def writer_entry(self, data: bytes) -> catalog.SchemaEntry:
        """The writer's schema named by a Confluent header; SerdeError if the header is not usable."""
        if len(data) < HEADER_SIZE:
            raise SerdeError(SerdeReason.TRUNCATED, f"{len(data)} bytes, fewer than the {HEADER_SIZE}-byte Confluent header")
        schema_id = int.from_bytes(data[1:HEADER_SIZE], "big")
        entry = self._writers.get(schema_id)
        if entry is None:
            schema = self.client.schema(schema_id)
            if schema is None:
                raise SerdeError(SerdeReason.UNKNOWN_SCHEMA_ID, f"the registry has no schema with id {schema_id}")
            entry = self._writers.setdefault(schema_id, _entry_of(schema, schema_id))
        return entry


def _entry_of(schema: Any, schema_id: int) -> catalog.SchemaEntry:
    """A catalog entry for a schema fetched from the registry: the catalog's own if the fingerprint is
    known (current or released), else one built from the registry's text (a writer we never saw)."""
    try:
        parsed = parse_schema(schema, {})
        canonical = to_parsing_canonical_form(parsed)
    except Exception as exc:  # fastavro.schema.SchemaParseException, KeyError, TypeError
        raise SerdeError(SerdeReason.UNKNOWN_SCHEMA_ID, f"schema {schema_id} does not parse as Avro: {exc}") from exc
    digest = bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))
    known = catalog.writer_schema(digest)
    if known is not None:
        return known
    name = parsed.get("name", "") if isinstance(parsed, dict) else ""
    if name.rsplit(".", 1)[-1] not in EVENT_TYPES:
        raise SerdeError(SerdeReason.UNKNOWN_SCHEMA_ID, f"schema {schema_id} ({name or 'unnamed'}) is no event's schema")
    return catalog.SchemaEntry(name=name, version=f"registry:{schema_id}", schema=schema, parsed=parsed,
                               canonical=canonical, fingerprint=digest)


def wire_format(settings: SchemaSettings | None = None) -> RegistrySerde | None:
    """The serde a process uses for its settings: None means plain single-object (schemas.serde); with
    a registry URL, a RegistrySerde that writes the configured format and reads both, its schemas
    registered now (at start, so an incompatible schema fails the process before it publishes)."""
    settings = settings or SchemaSettings()
    if settings.registry_url is None:
        return None
    wire = RegistrySerde(RegistryClient(settings.registry_url), settings.format, settings.compatibility)
    wire.register_all()
    return wire
