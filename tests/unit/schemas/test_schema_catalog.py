"""The catalog: every event has a documented, self-contained schema that mirrors its model, and
fingerprints are CRC-64-AVRO of the Parsing Canonical Form exactly as the Avro spec defines."""

from __future__ import annotations

import types
import typing
import uuid
from datetime import datetime
from enum import Enum

import pytest
from avro_compat import named_types
from fastavro.schema import fingerprint
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from composition.events import EVENT_TYPES
from schemas import catalog
from schemas.serde import MAGIC, header

EMPTY64 = 0xC15D213AA4D7A795


def spec_fingerprint64(data: bytes) -> int:
    """The Avro specification's reference CRC-64-AVRO (Rabin) algorithm, written out independently."""
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (EMPTY64 & -(fp & 1))
        table.append(fp)
    fp = EMPTY64
    for byte in data:
        fp = (fp >> 8) ^ table[(fp ^ byte) & 0xFF]
    return fp


def test_fingerprint_matches_the_avro_reference_vector():
    # Apache Avro's own test: schema "int" has fingerprint 0x7275d51a3f395c8f and this header.
    assert spec_fingerprint64(b'"int"') == 0x7275D51A3F395C8F
    fp = bytes.fromhex(fingerprint('"int"', "CRC-64-AVRO"))
    assert MAGIC + fp == bytes([0xC3, 0x01, 0x8F, 0x5C, 0x39, 0x3F, 0x1A, 0xD5, 0x75, 0x72])


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_event_has_a_fingerprinted_standalone_schema(event_type):
    entry = catalog.schema_entry(event_type)
    assert entry.name == f"dev.cadenza.events.{event_type}"
    assert entry.fingerprint == spec_fingerprint64(entry.canonical.encode()).to_bytes(8, "little")
    assert header(event_type) == MAGIC + entry.fingerprint
    assert catalog.writer_schema(entry.fingerprint).type_name == event_type
    assert '"doc"' not in entry.canonical and "logicalType" not in entry.canonical


def test_released_v1_is_loaded_and_its_fingerprints_resolve():
    released = catalog.released()
    assert "v1" in released
    v1_events = [event_type for event_type in EVENT_TYPES if event_type in released["v1"]]
    assert len(v1_events) >= 13  # the events of the first release (newer ones exist only in later ones)
    for event_type in v1_events:
        entry = released["v1"][event_type]
        assert catalog.writer_schema(entry.fingerprint).type_name == event_type


def _all_fields():
    for entry in catalog.current_types().values():
        for field in entry.schema.get("fields", []) if isinstance(entry.schema, dict) else []:
            yield entry.name, field


def test_every_type_and_field_is_documented_and_namespaced():
    for entry in catalog.current_types().values():
        assert entry.schema.get("doc"), entry.name
        assert entry.name.startswith(("dev.cadenza.events.", "dev.cadenza.composition."))
    for record, field in _all_fields():
        assert field.get("doc"), f"{record}.{field['name']}"
        if isinstance(field["type"], list) and "null" in field["type"]:
            assert field["type"][0] == "null" and field.get("default", "missing") is None, f"{record}.{field['name']}"
        elif isinstance(field["type"], list):  # a choice of records (a run's context: song, voice or set)
            assert all(b != "null" for b in field["type"]), f"{record}.{field['name']}"


def test_enums_have_an_unknown_default_for_evolution():
    enums = [e.schema for e in catalog.current_types().values() if e.schema["type"] == "enum"]
    assert {e["name"].rsplit(".", 1)[1] for e in enums} == {"StageName", "SectionKind", "LyricsSource", "StageStatus",
                                                           "SetOrderMode"}
    for enum in enums:
        assert enum["default"] == "unknown" == enum["symbols"][-1]


def test_envelope_ids_and_times_use_logical_types():
    for event_type in EVENT_TYPES:
        fields = {f["name"]: f["type"] for f in catalog.schema_entry(event_type).schema["fields"]}
        assert fields["event_id"] == fields["composition_id"] == {"type": "string", "logicalType": "uuid"}
        assert fields["occurred_at"] == {"type": "long", "logicalType": "timestamp-millis"}


# ------------------------------------------------ the .avsc files mirror the pydantic models


def _avro_matches(tp, avro, names) -> bool:
    avro = names.get(avro, avro) if isinstance(avro, str) else avro
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Annotated:  # a constrained type (composition.models.Theme, ...): its base type
        return _avro_matches(args[0], avro, names)
    if origin in (typing.Union, types.UnionType):
        non_null = [a for a in args if a is not type(None)]
        if type(None) not in args:  # a choice of records, branch for branch
            return (isinstance(avro, list) and len(avro) == len(non_null)
                    and all(_avro_matches(a, b, names) for a, b in zip(non_null, avro)))
        return (isinstance(avro, list) and avro[0] == "null" and len(avro) == 2
                and len(non_null) == 1 and _avro_matches(non_null[0], avro[1], names))
    kind = avro if isinstance(avro, str) else avro.get("type") if isinstance(avro, dict) else None
    if origin is typing.Literal or (isinstance(tp, type) and issubclass(tp, Enum)):
        values = list(args) if origin is typing.Literal else [e.value for e in tp]
        return kind == "enum" and avro["symbols"] == [*values, "unknown"]
    if origin is list:
        return kind == "array" and _avro_matches(args[0], avro["items"], names)
    if origin is dict:
        return kind == "map" and args[0] is str and _avro_matches(args[1], avro["values"], names)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return kind == "record" and avro["name"].rsplit(".", 1)[1] == tp.__name__
    if tp is uuid.UUID:
        return avro == {"type": "string", "logicalType": "uuid"}
    if tp is datetime or getattr(tp, "__name__", "") == "AwareDatetime":
        return avro == {"type": "long", "logicalType": "timestamp-millis"}
    return {bool: {"boolean"}, int: {"int", "long"}, float: {"double"}, str: {"string"}}.get(tp, set()) >= {kind}


def _reachable_models():
    seen: dict[str, type[BaseModel]] = {}

    def visit(tp):
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp.__name__ not in seen:
                seen[tp.__name__] = tp
                for info in tp.model_fields.values():
                    visit(info.annotation)
        for arg in typing.get_args(tp):
            visit(arg)

    for cls in EVENT_TYPES.values():
        visit(cls)
    return seen


@pytest.mark.parametrize("model_name", sorted(_reachable_models()))
def test_schema_mirrors_model_field_for_field(model_name):
    model = _reachable_models()[model_name]
    entry = catalog.current_types()[model_name]
    names = named_types(entry.schema)
    fields = {f["name"]: f for f in entry.schema["fields"]}
    assert list(fields) == list(model.model_fields), "same fields, same order"
    for name, info in model.model_fields.items():
        avro = fields[name]
        assert _avro_matches(info.annotation, avro["type"], names), f"{model_name}.{name}: {avro['type']}"
        if info.default is not PydanticUndefined:
            default = info.default.value if isinstance(info.default, Enum) else info.default
            assert avro.get("default", "missing") == default, f"{model_name}.{name} default"
        elif info.default_factory is list:
            assert avro.get("default") == [], f"{model_name}.{name} default"


def test_ints_bounded_to_32_bits_may_use_int_others_use_long():
    for model in _reachable_models().values():
        fields = {f["name"]: f["type"] for f in catalog.current_types()[model.__name__].schema["fields"]}
        for name, info in model.model_fields.items():
            avro = fields[name][1] if isinstance(fields[name], list) else fields[name]
            if avro == "int":
                metadata = list(info.metadata) + [m for arg in typing.get_args(info.annotation)
                                                  if typing.get_origin(arg) is typing.Annotated
                                                  for m in typing.get_args(arg)[1:]]
                metadata += [c for m in metadata for c in getattr(m, "metadata", [])]  # FieldInfo in Annotated
                lo = [m.ge for m in metadata if getattr(m, "ge", None) is not None]
                hi = [m.le for m in metadata if getattr(m, "le", None) is not None]
                assert lo and hi and lo[0] >= -(2**31) and hi[0] <= 2**31 - 1, f"{model.__name__}.{name}"
