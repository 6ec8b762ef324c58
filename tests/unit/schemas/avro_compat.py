"""Schema-evolution checks for the compatibility tests: Avro's resolution rules, and Avro data.

``problems(writer, reader)`` walks two standalone schemas the way an Avro reader resolves them
(specification, "Schema Resolution") and lists every place where data written with ``writer``
could not be read with ``reader``: a reader field missing from the writer without a default, a
writer enum symbol the reader lacks without an enum default, a type that neither matches nor
promotes, a renamed record. Backward compatibility is ``problems(released, current) == []``;
forward is ``problems(current, released) == []``.

``avro_values(schema)`` generates arbitrary data valid for a schema (not for the pydantic models),
so resolution is also exercised on data the models would never produce.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

PROMOTIONS = {"int": {"long", "float", "double"}, "long": {"float", "double"}, "float": {"double"},
              "string": {"bytes"}, "bytes": {"string"}}
NAMED = ("record", "enum", "fixed", "error")


def named_types(schema: Any, out: dict[str, dict] | None = None) -> dict[str, dict]:
    """Every named type defined in a standalone schema, by full name."""
    out = {} if out is None else out
    if isinstance(schema, list):
        for branch in schema:
            named_types(branch, out)
    elif isinstance(schema, dict):
        if schema.get("type") in NAMED:
            out[schema["name"]] = schema
        for field in schema.get("fields", []):
            named_types(field["type"], out)
        for key in ("items", "values"):
            if key in schema:
                named_types(schema[key], out)
    return out


def _kind(schema: Any, names: dict[str, dict]) -> Any:
    """Resolve a name reference and unwrap ``{"type": "long", "logicalType": ...}`` to ``"long"``."""
    if isinstance(schema, str):
        return names.get(schema, schema)
    if isinstance(schema, dict) and schema.get("type") not in (*NAMED, "array", "map"):
        return schema["type"]
    return schema


def _type_name(schema: Any) -> str:
    if isinstance(schema, list):
        return "union"
    return schema if isinstance(schema, str) else schema["type"]


def problems(writer: Any, reader: Any) -> list[str]:
    """Where data written with ``writer`` cannot be read with ``reader``; empty if compatible."""
    w_names, r_names = named_types(writer), named_types(reader)
    seen: set[tuple[str, str]] = set()

    def check(w: Any, r: Any, path: str) -> list[str]:
        w, r = _kind(w, w_names), _kind(r, r_names)
        if isinstance(w, list):
            return [p for branch in w for p in check(branch, r, path)]
        if isinstance(r, list):
            if any(not check(w, branch, path) for branch in r):
                return []
            return [f"{path}: writer {_type_name(w)} matches no branch of the reader's union"]
        wt, rt = _type_name(w), _type_name(r)
        if wt != rt:
            ok = rt in PROMOTIONS.get(wt, set())
            return [] if ok else [f"{path}: writer {wt} cannot be read as {rt}"]
        if wt in NAMED:
            if w["name"] != r["name"] and w["name"] not in r.get("aliases", []):
                return [f"{path}: writer {w['name']} is read as {r['name']} (renamed without alias)"]
            if (w["name"], r["name"]) in seen:
                return []
            seen.add((w["name"], r["name"]))
        if wt in ("record", "error"):
            found: list[str] = []
            w_fields = {f["name"]: f for f in w["fields"]}
            for field in r["fields"]:
                source = next((w_fields[n] for n in (field["name"], *field.get("aliases", [])) if n in w_fields), None)
                if source is not None:
                    found += check(source["type"], field["type"], f"{path}.{field['name']}")
                elif "default" not in field:
                    found.append(f"{path}.{field['name']}: reader field not written and has no default")
            return found
        if wt == "enum":
            extra = [s for s in w["symbols"] if s not in r["symbols"]]
            if extra and r.get("default") not in r["symbols"]:
                return [f"{path}: writer symbols {extra} unknown to the reader, which has no default"]
            return []
        if wt == "fixed":
            return [] if w["size"] == r["size"] else [f"{path}: fixed size {w['size']} read as {r['size']}"]
        if wt == "array":
            return check(w["items"], r["items"], f"{path}[]")
        if wt == "map":
            return check(w["values"], r["values"], f"{path}{{}}")
        return []

    return check(writer, reader, "")


def avro_values(schema: Any) -> st.SearchStrategy:
    """Arbitrary data valid for a standalone Avro schema, logical types included."""
    names = named_types(schema)

    def gen(s: Any) -> st.SearchStrategy:
        if isinstance(s, list):
            return st.one_of([gen(branch) for branch in s])
        if isinstance(s, str) and s in names:
            return st.deferred(lambda: gen(names[s]))
        if isinstance(s, dict) and s.get("logicalType") == "uuid":
            return st.uuids()
        if isinstance(s, dict) and s.get("logicalType") == "timestamp-millis":
            return st.integers(0, 7_000_000_000_000)
        kind = s if isinstance(s, str) else s["type"]
        simple = {"null": st.none(), "boolean": st.booleans(), "int": st.integers(-(2**31), 2**31 - 1),
                  "long": st.integers(-(2**63), 2**63 - 1), "float": st.floats(width=32, allow_nan=False),
                  "double": st.floats(allow_nan=False), "string": st.text(max_size=10),
                  "bytes": st.binary(max_size=10)}
        if kind in simple:
            return simple[kind]
        if kind == "enum":
            return st.sampled_from(s["symbols"])
        if kind == "array":
            return st.lists(gen(s["items"]), max_size=2)
        if kind == "map":
            return st.dictionaries(st.text(max_size=5), gen(s["values"]), max_size=2)
        if kind in ("record", "error"):
            return st.fixed_dictionaries({f["name"]: gen(f["type"]) for f in s["fields"]})
        raise NotImplementedError(kind)

    return gen(schema)


def minimal_value(schema: Any) -> Any:
    """The simplest datum valid for a standalone schema (first union branch, first symbol, empties)."""
    names = named_types(schema)

    def value(s: Any) -> Any:
        if isinstance(s, list):
            return value(s[0])
        if isinstance(s, str) and s in names:
            return value(names[s])
        if isinstance(s, dict) and s.get("logicalType") == "uuid":
            return "00000000-0000-0000-0000-000000000000"
        kind = s if isinstance(s, str) else s["type"]
        if kind in ("record", "error"):
            return {f["name"]: value(f["type"]) for f in s["fields"]}
        if kind == "enum":
            return s["symbols"][0]
        return {"null": None, "boolean": False, "int": 0, "long": 0, "float": 0.0, "double": 0.0,
                "string": "", "bytes": b"", "array": [], "map": {}}[kind]

    return value(schema)
