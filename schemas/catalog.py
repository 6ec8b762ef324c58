"""The schema catalog: every ``.avsc`` parsed at import, by event type and by fingerprint.

``schemas/*.avsc`` holds one named type (record or enum) per file, referring to the others by full
name. A writer schema on the wire must be self-contained, so for each type the catalog builds a
standalone schema (each named type defined at its first use, referenced by name after that),
parses it with fastavro and fingerprints its Parsing Canonical Form with CRC-64-AVRO, exactly as
Avro's single-object encoding expects.

Released versions live under ``schemas/released/v<N>/`` (a frozen copy of the files as released).
They are loaded too so that data written by an older producer still finds its writer schema by
fingerprint; the compatibility tests compare the current files against the newest release.
To release: copy ``schemas/*.avsc`` into ``schemas/released/v<N+1>/``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form

from composition.events import EVENT_TYPES

SCHEMA_DIR = Path(__file__).resolve().parent
RELEASED_DIR = SCHEMA_DIR / "released"
CURRENT = "current"

Schema = Any  # an Avro schema as JSON data: a str, a list (union) or a dict


@dataclass(frozen=True)
class SchemaEntry:
    """One named type's standalone, parsed schema and its identity on the wire."""

    name: str  # full name, e.g. "dev.cadenza.events.StageFailed"
    version: str  # "current" or the released folder, e.g. "v1"
    schema: Schema  # standalone JSON schema (what the fingerprint is of)
    parsed: Schema  # fastavro's parsed form of ``schema``
    canonical: str  # Parsing Canonical Form
    fingerprint: bytes  # CRC-64-AVRO of ``canonical``, the 8 little-endian bytes of the header

    @property
    def type_name(self) -> str:
        """The simple name, which for events is the event type name (``StageFailed``)."""
        return self.name.rsplit(".", 1)[-1]


def _full_name(name: str, namespace: str | None) -> str:
    return name if "." in name or not namespace else f"{namespace}.{name}"


def load_raw(directory: Path) -> dict[str, dict[str, Any]]:
    """Read every ``.avsc`` in ``directory`` (not below it), keyed by the type's full name."""
    raw: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.avsc")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        name = _full_name(schema["name"], schema.get("namespace"))
        if name in raw:
            raise ValueError(f"{path}: {name} is defined twice")
        raw[name] = schema
    return raw


def standalone(name: str, raw: dict[str, dict[str, Any]]) -> Schema:
    """``name``'s schema with every named type it uses inlined once, in first-use order."""
    defined: set[str] = set()

    def walk(node: Schema, namespace: str | None) -> Schema:
        if isinstance(node, list):
            return [walk(branch, namespace) for branch in node]
        if isinstance(node, str):  # a primitive or a reference to a named type
            full = next((n for n in (_full_name(node, namespace), node) if n in raw), None)
            if full is None:
                return node
            return full if full in defined else walk(raw[full], None)
        kind = node.get("type")
        if kind in ("record", "enum", "fixed", "error"):
            full = _full_name(node["name"], node.get("namespace") or namespace)
            defined.add(full)
            out = {**node, "name": full}
            out.pop("namespace", None)
            if kind in ("record", "error"):
                child_ns = full.rsplit(".", 1)[0] if "." in full else None
                out["fields"] = [{**f, "type": walk(f["type"], child_ns)} for f in node["fields"]]
            return out
        if kind == "array":
            return {**node, "items": walk(node["items"], namespace)}
        if kind == "map":
            return {**node, "values": walk(node["values"], namespace)}
        return node

    return walk(raw[name], None)


def build_entry(name: str, raw: dict[str, dict[str, Any]], version: str = CURRENT) -> SchemaEntry:
    """Parse and fingerprint ``name``'s standalone schema (fastavro validates it here)."""
    schema = standalone(name, raw)
    parsed = parse_schema(schema, {})
    canonical = to_parsing_canonical_form(parsed)
    return SchemaEntry(
        name=name,
        version=version,
        schema=schema,
        parsed=parsed,
        canonical=canonical,
        fingerprint=bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO")),
    )


def load_version(directory: Path, version: str) -> dict[str, SchemaEntry]:
    """Every named type in ``directory``, keyed by simple name (names are unique across namespaces)."""
    raw = load_raw(directory)
    entries = {entry.type_name: entry for entry in (build_entry(n, raw, version) for n in raw)}
    if len(entries) != len(raw):
        raise ValueError(f"{directory}: two named types share a simple name")
    return entries


def _released_versions() -> dict[str, dict[str, SchemaEntry]]:
    folders = [p for p in RELEASED_DIR.glob("v*") if p.is_dir() and p.name[1:].isdigit()]
    return {p.name: load_version(p, p.name) for p in sorted(folders, key=lambda p: int(p.name[1:]))}


_CURRENT = load_version(SCHEMA_DIR, CURRENT)
_RELEASED = _released_versions()

_missing = sorted(set(EVENT_TYPES) - set(_CURRENT))
if _missing:
    raise RuntimeError(f"schemas/: no .avsc for event types {', '.join(_missing)}")

_BY_FINGERPRINT: dict[bytes, SchemaEntry] = {}
for _version in (_CURRENT, *reversed(list(_RELEASED.values()))):  # current wins, then newest release
    for _type_name in EVENT_TYPES:
        _entry = _version.get(_type_name)
        if _entry is None:
            continue
        _known = _BY_FINGERPRINT.setdefault(_entry.fingerprint, _entry)
        if _known.type_name != _type_name:
            raise RuntimeError(f"fingerprint collision between {_known.name} and {_entry.name}")


def schema_entry(event_type: str) -> SchemaEntry:
    """The current schema of an event type, e.g. ``schema_entry("StageFailed")``; KeyError if none."""
    if event_type not in EVENT_TYPES:
        raise KeyError(event_type)
    return _CURRENT[event_type]


def parsed_schema(event_type: str) -> Schema:
    """The current parsed (fastavro) schema of an event type."""
    return schema_entry(event_type).parsed


def writer_schema(fingerprint_bytes: bytes) -> SchemaEntry | None:
    """The event schema, current or released, whose CRC-64-AVRO fingerprint is ``fingerprint_bytes``."""
    return _BY_FINGERPRINT.get(bytes(fingerprint_bytes))


def current_types() -> dict[str, SchemaEntry]:
    """Every current named type (events and shared records/enums), keyed by simple name."""
    return dict(_CURRENT)


def released() -> dict[str, dict[str, SchemaEntry]]:
    """Every released version (``"v1"``, ...) oldest first, each keyed by simple name."""
    return {version: dict(entries) for version, entries in _RELEASED.items()}
