"""The wire format of this process: what every producer encodes with and every consumer decodes with.

Set once at a process's entry point from its settings (``configure(settings.schema_settings)``):
without a registry it is Avro single-object (``schemas.serde``); with one, a
:class:`~schemas.registry.RegistrySerde` that writes the configured format (single-object or
Confluent) and reads both, its schemas registered at start with the configured compatibility level.
The producers (KafkaPublisher, the outbox rows, the faust inbox) and the consumers (the inbox, the
projector, analytics, the policy follower, ``cadenza dlq``) call :func:`encode` / :func:`decode` here.
"""

from __future__ import annotations

from typing import TypeVar

from composition.events import Envelope
from schemas import serde
from schemas.registry import RegistrySerde, SchemaFormat, SchemaSettings, wire_format

E = TypeVar("E", bound=Envelope)

CONTENT_TYPES = {SchemaFormat.SINGLE_OBJECT: "application/vnd.apache.avro+single-object",
                 SchemaFormat.CONFLUENT: "application/vnd.confluent.avro"}

_registry: list[RegistrySerde] = []


def configure(settings: SchemaSettings) -> RegistrySerde | None:
    """Use ``settings`` in this process from now on (registering the schemas when a registry is set)."""
    wire = wire_format(settings)
    use(wire)
    return wire


def use(wire: RegistrySerde | None) -> None:
    """Use ``wire`` (None: plain single-object, no registry)."""
    _registry[:] = [wire] if wire is not None else []


def current() -> RegistrySerde | None:
    return _registry[0] if _registry else None


def encode(event: Envelope) -> bytes:
    return _registry[0].encode(event) if _registry else serde.encode(event)


def decode(data: bytes, reader: type[E] | None = None) -> Envelope:
    return _registry[0].decode(data, reader) if _registry else serde.decode(data, reader)


def content_type() -> str:
    return CONTENT_TYPES[_registry[0].writes if _registry else SchemaFormat.SINGLE_OBJECT]
