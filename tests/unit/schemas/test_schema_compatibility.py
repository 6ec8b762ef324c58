"""Schema evolution: each current schema stays backward and forward compatible with the newest
release under schemas/released/, checked structurally (Avro's resolution rules) and by actually
writing data with one schema and reading it with the other through fastavro. The last tests prove
the check bites: deliberately broken schemas must fail it."""

from __future__ import annotations

import copy
from io import BytesIO

import pytest
from avro_compat import avro_values, minimal_value, problems
from fastavro import schemaless_reader, schemaless_writer
from fastavro.read import SchemaResolutionError
from hypothesis import HealthCheck, assume, given, settings
from model_strategies import events

from composition.events import EVENT_TYPES
from schemas import catalog
from schemas.convert import from_dict, to_dict
from schemas.serde import MAGIC, decode

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RELEASES = catalog.released()
LATEST = max(RELEASES, key=lambda v: int(v[1:]))
CURRENT = catalog.current_types()


def _write(entry: catalog.SchemaEntry, record) -> bytes:
    out = BytesIO()
    schemaless_writer(out, entry.parsed, record)
    return out.getvalue()


def _read(writer: catalog.SchemaEntry, reader: catalog.SchemaEntry, body: bytes):
    return schemaless_reader(BytesIO(body), writer.parsed, reader.parsed)


def assert_compatible(old: catalog.SchemaEntry, new: catalog.SchemaEntry) -> None:
    """Structural check both ways, then data written by each read by the other."""
    assert problems(old.schema, new.schema) == [], "backward: new reader, old data"
    assert problems(new.schema, old.schema) == [], "forward: old reader, new data"

    @SETTINGS
    @given(avro_values(old.schema), avro_values(new.schema))
    def both_ways(old_record, new_record):
        _read(old, new, _write(old, old_record))
        _read(new, old, _write(new, new_record))

    both_ways()


def test_every_released_event_type_still_exists():
    for version, entries in RELEASES.items():
        assert set(EVENT_TYPES) >= {name for name in entries if name in EVENT_TYPES}, version
        assert set(entries) <= set(CURRENT), f"{version}: a released type was removed"


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_current_schema_is_compatible_with_latest_release(event_type):
    released = RELEASES[LATEST].get(event_type)
    if released is None:
        pytest.skip(f"{event_type} is new since {LATEST}")
    assert_compatible(released, CURRENT[event_type])


@pytest.mark.parametrize("version,event_type", [(v, e) for v in sorted(RELEASES) for e in sorted(EVENT_TYPES)])
def test_released_data_decodes_through_the_serde(version, event_type):
    """What an old producer of any release wrote (released fingerprint + released body) decodes into today's
    model, with the fields the released schema lacks at their defaults (an old producer could not set them)."""
    released = RELEASES[version].get(event_type)
    if released is None:
        pytest.skip(f"{event_type} is new since {version}")

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(events(event_type))
    def old_producer(event):
        try:
            body = _write(released, to_dict(event))
        except (ValueError, TypeError) as exc:  # a value the release cannot carry (a newer enum symbol, a newer
            assume(False)                      # union branch): no producer of that release wrote it
            raise exc
        held = schemaless_reader(BytesIO(body), released.parsed)  # what the old schema carries, nothing more
        assert decode(MAGIC + released.fingerprint + body) == from_dict(type(event), held)

    old_producer()


# ------------------------------------------------ the check catches incompatible edits


def _edited(event_type: str, edit) -> catalog.SchemaEntry:
    """The current event schema after ``edit(raw)`` on a copy of the raw .avsc set."""
    raw = copy.deepcopy(catalog.load_raw(catalog.SCHEMA_DIR))
    edit(raw)
    return catalog.build_entry(f"dev.cadenza.events.{event_type}", raw, "broken")


def _fields(raw, name):
    return raw[name]["fields"]


def test_a_field_added_without_default_is_caught():
    broken = _edited("StageFailed", lambda raw: _fields(raw, "dev.cadenza.events.StageFailed").append(
        {"name": "worker", "type": "string", "doc": "new"}))
    with pytest.raises(AssertionError, match="backward"):
        assert_compatible(RELEASES[LATEST]["StageFailed"], broken)
    assert problems(RELEASES[LATEST]["StageFailed"].schema, broken.schema) == [
        ".worker: reader field not written and has no default"]
    released = RELEASES[LATEST]["StageFailed"]
    with pytest.raises(SchemaResolutionError):
        _read(released, broken, _write(released, _sample(released)))


def test_a_field_added_with_a_default_passes():
    fine = _edited("StageFailed", lambda raw: _fields(raw, "dev.cadenza.events.StageFailed").append(
        {"name": "worker", "type": ["null", "string"], "doc": "new", "default": None}))
    assert_compatible(RELEASES[LATEST]["StageFailed"], fine)


def test_a_type_change_in_a_nested_record_is_caught():
    def edit(raw):
        next(f for f in _fields(raw, "dev.cadenza.composition.Artifact") if f["name"] == "size_bytes")["type"] = "string"

    broken = _edited("CompensationRequested", edit)
    released = RELEASES[LATEST]["CompensationRequested"]
    assert problems(released.schema, broken.schema) == [".artifacts[].size_bytes: writer long cannot be read as string"]
    assert problems(broken.schema, released.schema) == [".artifacts[].size_bytes: writer string cannot be read as long"]
    body = _write(released, {**_sample(released), "artifacts": [
        {"name": "a", "uri": "u", "sha256": "0" * 64, "size_bytes": 3, "media_type": "m"}]})
    with pytest.raises((SchemaResolutionError, ValueError)):
        _read(released, broken, body)


def test_a_removed_field_without_default_is_caught_forward():
    def edit(raw):
        raw["dev.cadenza.events.StageFailed"]["fields"] = [
            f for f in _fields(raw, "dev.cadenza.events.StageFailed") if f["name"] != "provider"]

    broken = _edited("StageFailed", edit)
    assert problems(RELEASES[LATEST]["StageFailed"].schema, broken.schema) == []
    assert problems(broken.schema, RELEASES[LATEST]["StageFailed"].schema) == [
        ".provider: reader field not written and has no default"]
    with pytest.raises(AssertionError, match="forward"):
        assert_compatible(RELEASES[LATEST]["StageFailed"], broken)


def test_an_enum_symbol_unknown_to_a_reader_without_default_is_caught():
    def add_symbol(raw):
        raw["dev.cadenza.composition.StageName"]["symbols"].insert(-1, "mastering2")

    def drop_default(raw):
        raw["dev.cadenza.composition.StageName"].pop("default")

    newer = _edited("StageCompensated", add_symbol)
    no_default = _edited("StageCompensated", drop_default)
    assert problems(newer.schema, RELEASES[LATEST]["StageCompensated"].schema) == []  # old reader falls back
    assert problems(newer.schema, no_default.schema) == [
        ".stage: writer symbols ['mastering2'] unknown to the reader, which has no default"]
    read = _read(newer, RELEASES[LATEST]["StageCompensated"],
                 _write(newer, {**_sample(newer), "stage": "mastering2"}))
    assert read["stage"] == "unknown"  # and the serde turns this into invalid_record


def test_a_renamed_record_is_caught():
    def edit(raw):
        raw["dev.cadenza.events.Error"]["name"] = "Failure"
        next(f for f in _fields(raw, "dev.cadenza.events.StageFailed") if f["name"] == "error")["type"] = \
            "dev.cadenza.events.Failure"
        raw["dev.cadenza.events.Failure"] = raw.pop("dev.cadenza.events.Error")

    broken = _edited("StageFailed", edit)
    assert problems(RELEASES[LATEST]["StageFailed"].schema, broken.schema) == [
        ".error: writer dev.cadenza.events.Error is read as dev.cadenza.events.Failure (renamed without alias)"]


def _sample(entry: catalog.SchemaEntry) -> dict:
    return minimal_value(entry.schema)
