"""The one place where Cadenza's pydantic models become Avro-ready dicts and back.

The domain models (``composition/``) know nothing about Avro; this module is the bridge the serde
hands to fastavro, in the manner of confluent-kafka's ``to_dict``/``from_dict`` callables. The
``.avsc`` files mirror the models field for field (a unit test keeps them in step), so the mapping
is by field name, with these value rules:

- nested models become nested dicts (records); lists stay lists (arrays); ``dict[str, float]``
  stays a dict (an Avro map);
- enums (``StageName``) and ``Literal`` strings travel as their string symbol;
- ``uuid.UUID`` stays a UUID (fastavro writes the ``uuid`` logical type as its string);
- datetimes must be timezone-aware; they travel as UTC at millisecond precision
  (``timestamp-millis``), so sub-millisecond digits are dropped. A naive datetime is refused:
  fastavro would read it as the machine's local time, which is never what a producer meant.

On the way back, fastavro has already applied the logical types (UUIDs, UTC datetimes), and
pydantic re-applies the domain's own rules (ranges, patterns, cross-field checks), so a record that
is valid Avro but not a valid model fails here with ``pydantic.ValidationError``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def to_utc_millis(value: datetime, field: str = "datetime") -> datetime:
    """``value`` in UTC, truncated to whole milliseconds; ValueError for a naive datetime."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{field}: naive datetime {value.isoformat()}; Cadenza timestamps must be timezone-aware")
    value = value.astimezone(timezone.utc)
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)


UNION_BRANCHES = ("CompositionContext", "VoiceContext", "SetContext")
"""Records that travel as one branch of a union (a run's context): on the wire fastavro is told the branch
(its ``-type`` key), so it need not try each branch against the value."""


def _to_avro(value: Any, path: str, wire: bool = False) -> Any:
    if isinstance(value, BaseModel):
        record = to_dict(value, path, wire)
        if wire and type(value).__name__ in UNION_BRANCHES:
            record["-type"] = f"dev.cadenza.composition.{type(value).__name__}"
        return record
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return to_utc_millis(value, path)
    if isinstance(value, (list, tuple)):
        return [_to_avro(item, f"{path}[{i}]", wire) for i, item in enumerate(value)]
    if isinstance(value, Mapping):
        return {str(key): _to_avro(item, f"{path}[{key!r}]", wire) for key, item in value.items()}
    if value is None or isinstance(value, (bool, int, float, str, uuid.UUID)):
        return value
    raise TypeError(f"{path}: no Avro mapping for {type(value).__name__}")


def to_dict(model: BaseModel, path: str = "", wire: bool = False) -> dict[str, Any]:
    """An Avro-ready dict of ``model``: one key per model field, values mapped as the module says.

    Raises ValueError (naive datetime) or TypeError (a value with no Avro mapping); ``path`` names
    the offending field in the message, e.g. ``context.plan.form[2].kind``.
    """
    prefix = f"{path}." if path else ""
    return {name: _to_avro(getattr(model, name), prefix + name, wire) for name in type(model).model_fields}


def from_dict(model_type: type[M], data: Mapping[str, Any]) -> M:
    """The model of type ``model_type`` for an Avro record read by fastavro.

    Raises ``pydantic.ValidationError`` if the record breaks the model's rules, including an enum
    symbol the model does not have (``"unknown"``, the reader's default for a newer writer's symbol).
    """
    return model_type.model_validate(dict(data))
