"""Hypothesis strategies for every model reachable from the 13 events, built from the models.

Each field's strategy comes from its annotation and its pydantic constraints (ge/gt/le/lt,
min/max length, pattern), so a field added to a model is generated without touching this file.
Rules pydantic checks in validators, which no annotation shows, are written out in ``OVERRIDES``
(the request's genre blend, known genres and voices). Datetimes are UTC at millisecond precision,
the precision the contract carries; lists are kept short so a nested context stays small.
"""

from __future__ import annotations

import types
import typing
import uuid
from datetime import datetime, timezone
from enum import Enum
from functools import cache

import annotated_types as at
from hypothesis import strategies as st
from pydantic import BaseModel

from composition.events import EVENT_TYPES
from composition.models import (
    GENRES,
    MOOD_LABELS,
    VOICES,
    CompositionRequest,
    GenreWeight,
    Mood,
)
from composition.sets import SetRequest, SetTrack
from composition.voices import VoiceRequest

INT64 = (-(2**63), 2**63 - 1)
MAX_LIST = 3

utc_millis = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(timezone.utc)
).map(lambda d: d.replace(microsecond=d.microsecond - d.microsecond % 1000))


@st.composite
def genre_blend(draw: st.DrawFn) -> list[GenreWeight]:
    """1..n distinct known genres whose weights sum to 1 (the request's rule)."""
    names = draw(st.lists(st.sampled_from(GENRES), min_size=1, max_size=len(GENRES), unique=True))
    raw = draw(st.lists(st.integers(1, 100), min_size=len(names), max_size=len(names)))
    weights = [r / sum(raw) for r in raw]
    weights[-1] = 1.0 - sum(weights[:-1])
    return [GenreWeight(genre=n, weight=w) for n, w in zip(names, weights)]


@st.composite
def requests(draw: st.DrawFn) -> CompositionRequest:
    instrumental = draw(st.booleans())
    lyrics = None if instrumental else draw(st.none() | st.text(min_size=1, max_size=80).filter(lambda t: "[" not in t))
    mood = draw(st.sampled_from(sorted(MOOD_LABELS)).map(Mood.from_label) | model(Mood))
    return CompositionRequest(
        mood=mood,
        genres=draw(genre_blend()),
        theme=draw(st.text(min_size=1, max_size=40)),
        duration_s=draw(st.floats(15.0, 600.0)),
        lyrics=lyrics,
        voice=draw(st.sampled_from(VOICES)),
        instrumental=instrumental,
        seed=draw(st.none() | st.integers(0, 2**31 - 1)),
        title=draw(st.none() | st.sampled_from(["Open Road", "Letters"])),
        hook=draw(st.none() | st.sampled_from(["take the long way home"])),
        bpm=draw(st.none() | st.floats(50.0, 200.0)),
        key=draw(st.none() | st.sampled_from(["F# minor", "Bb major", "D dorian", "G mixolydian"])),
        meter=draw(st.none() | st.sampled_from(["3/4", "4/4"])),
    )


OVERRIDES: dict[tuple[type[BaseModel], str], st.SearchStrategy] = {
    (GenreWeight, "genre"): st.sampled_from(GENRES),
    (VoiceRequest, "consent"): st.just(True),  # a recording is only ever accepted with consent
    (SetRequest, "tracks"): st.deferred(lambda: st.lists(model(SetTrack), min_size=2, max_size=3,
                                                         unique_by=lambda t: t.composition_id)),
}
MODEL_OVERRIDES: dict[type[BaseModel], st.SearchStrategy] = {}


def _bounds(metadata: list, kind: str) -> dict:
    out: dict = {}
    for m in metadata:
        if isinstance(m, at.Ge):
            out["min_value"] = m.ge
        elif isinstance(m, at.Gt):
            out["min_value"] = m.gt + 1 if kind == "int" else m.gt
            out["exclude_min"] = kind != "int"
        elif isinstance(m, at.Le):
            out["max_value"] = m.le
        elif isinstance(m, at.Lt):
            out["max_value"] = m.lt - 1 if kind == "int" else m.lt
            out["exclude_max"] = kind != "int"
        elif isinstance(m, at.MinLen):
            out["min_size"] = m.min_length
        elif isinstance(m, at.MaxLen):
            out["max_size"] = m.max_length
        elif getattr(m, "pattern", None):
            out["pattern"] = m.pattern
    return out


def for_annotation(tp: object, metadata: list) -> st.SearchStrategy:
    """A strategy for values of type ``tp`` that satisfy pydantic constraints ``metadata``."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([for_annotation(a, metadata if a is not type(None) else []) for a in args])
    if origin is typing.Literal:
        return st.sampled_from(args)
    if tp is type(None):
        return st.none()
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return model(tp)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return st.sampled_from(list(tp))
    if tp is bool:
        return st.booleans()
    if tp is int:
        b = _bounds(metadata, "int")
        return st.integers(max(b.get("min_value", INT64[0]), INT64[0]), min(b.get("max_value", INT64[1]), INT64[1]))
    if tp is float:
        b = {k: v for k, v in _bounds(metadata, "float").items() if "size" not in k}
        bounded = "min_value" in b or "max_value" in b
        return st.floats(allow_nan=False, allow_infinity=not bounded, **b)
    if tp is str:
        b = _bounds(metadata, "str")
        if "pattern" in b:
            return st.from_regex(b["pattern"], fullmatch=True)
        return st.text(min_size=b.get("min_size", 0), max_size=min(b.get("max_size", 20), 20))
    if tp is uuid.UUID:
        return st.uuids()
    if tp is datetime or getattr(tp, "__name__", "") == "AwareDatetime":
        return utc_millis
    if origin is list:
        b = _bounds(metadata, "list")
        lo = b.get("min_size", 0)
        return st.lists(for_annotation(args[0], []), min_size=lo, max_size=max(lo, min(b.get("max_size", MAX_LIST), MAX_LIST)))
    if origin is dict:
        return st.dictionaries(for_annotation(args[0], []), for_annotation(args[1], []), max_size=MAX_LIST)
    raise NotImplementedError(f"no strategy for {tp!r}")


@cache
def model(cls: type[BaseModel]) -> st.SearchStrategy:
    """Valid instances of ``cls`` (deferred, so nested and recursive models resolve lazily)."""
    if cls in MODEL_OVERRIDES:
        return MODEL_OVERRIDES[cls]
    fields = {
        name: OVERRIDES[(cls, name)] if (cls, name) in OVERRIDES else for_annotation(info.annotation, info.metadata)
        for name, info in cls.model_fields.items()
    }
    return st.deferred(lambda: st.builds(cls, **fields))


MODEL_OVERRIDES[CompositionRequest] = requests()


def events(event_type: str) -> st.SearchStrategy:
    """Valid instances of one event type, by name (``"StageCompleted"``)."""
    return model(EVENT_TYPES[event_type])
