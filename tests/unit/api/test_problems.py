"""Errors become problem+json in one place: domain errors by kind, validation errors by field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.problems import domain_problem, from_validation_error
from composition.errors import Busy, Conflict, InvalidInput, NotFound
from composition.models import CompositionRequest, GenreWeight, Mood


def _invalid(**changes) -> ValidationError:
    base = dict(mood=Mood.from_label("happy"), genres=[GenreWeight(genre="pop", weight=1.0)], theme="t", duration_s=30)
    with pytest.raises(ValidationError) as error:
        CompositionRequest(**{**base, **changes})
    return error.value


def test_a_domain_rule_names_its_own_field():
    problem = from_validation_error(_invalid(genres=[GenreWeight(genre="pop", weight=0.5)]), ("body",))
    assert problem.status == 422
    assert [(e.field, e.message) for e in problem.errors] == [("genres", "weights must sum to 1, got 0.5")]
    problem = from_validation_error(_invalid(instrumental=True, lyrics="la la"), ("body",))
    assert [e.field for e in problem.errors] == ["lyrics"]


def test_a_field_constraint_keeps_its_location():
    problem = from_validation_error(_invalid(duration_s=5), ("body",))
    assert [e.field for e in problem.errors] == ["duration_s"]


def test_domain_errors_map_by_kind():
    assert domain_problem(NotFound("composition")).status == 404
    conflict = domain_problem(Conflict("already finished", kind="already-finished"))
    assert conflict.status == 409 and conflict.kind == "already-finished"
    busy = domain_problem(Busy("slow down", kind="rate-limited", retry_after_s=0.2))
    assert busy.status == 429 and busy.headers["Retry-After"] == "1"
    invalid = domain_problem(InvalidInput("already used", field="Idempotency-Key", reason="idempotency-key-reused"))
    assert invalid.status == 422 and invalid.errors[0].field == "Idempotency-Key"
    assert domain_problem(ValueError("not ours")) is None
