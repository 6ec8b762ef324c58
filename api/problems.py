"""Errors as RFC 9457 problem details (``application/problem+json``), naming the field at fault.

The one place where errors become HTTP: the domain's named errors (``composition.errors``) by kind -
InvalidInput 422, NotFound 404, Conflict 409, Busy 429 with Retry-After - pydantic's validation errors
as 422 listing each field (a domain rule says its field itself, as ``InvalidInput.field``), and
the framework's own HTTP errors. Routes raise domain errors or :class:`Problem`, never build responses.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from composition.errors import (
    Busy,
    CadenzaError,
    Conflict,
    InvalidInput,
    NotFound,
    TransientError,
)

log = logging.getLogger("cadenza.api")

MEDIA_TYPE = "application/problem+json"
_TITLES = {400: "Bad request", 401: "Unauthorized", 404: "Not found", 405: "Method not allowed",
           406: "Not acceptable", 409: "Conflict", 413: "Content too large", 415: "Unsupported media type",
           416: "Range not satisfiable", 422: "Invalid request", 429: "Too many requests",
           500: "Internal server error", 503: "Service unavailable"}


class FieldError(BaseModel):
    field: str
    message: str


class ProblemDetail(BaseModel):
    """RFC 9457 problem details; ``errors`` lists each invalid field of a 422."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None


class Problem(Exception):
    """An HTTP answer the API layer itself decides (authentication, ranges, the framework's errors)."""

    def __init__(self, status: int, detail: str, *, kind: str | None = None, title: str | None = None,
                 errors: list[FieldError] | None = None, headers: dict[str, str] | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.kind = status, detail, kind
        self.title = title or _TITLES.get(status, "Error")
        self.errors, self.headers, self.extra = errors, headers or {}, extra or {}

    def response(self, instance: str | None = None) -> JSONResponse:
        body: dict[str, Any] = {"type": f"/problems/{self.kind}" if self.kind else "about:blank",
                                "title": self.title, "status": self.status, "detail": self.detail}
        if instance:
            body["instance"] = instance
        if self.errors is not None:
            body["errors"] = [e.model_dump() for e in self.errors]
        body.update(self.extra)
        return JSONResponse(body, status_code=self.status, headers=self.headers, media_type=MEDIA_TYPE)


def field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "genres", 0, "weight")`` -> ``"genres[0].weight"``."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "form"):
        parts = parts[1:]
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += ("." if name else "") + str(part)
    return name or "body"


def field_errors(errors: list[dict[str, Any]]) -> list[FieldError]:
    """One FieldError per pydantic error; a domain rule (InvalidInput) names its own field."""
    result = []
    for error in errors:
        cause = (error.get("ctx") or {}).get("error")
        loc = tuple(error.get("loc", ()))
        if isinstance(cause, InvalidInput):
            name = field_name(loc + ((cause.field,) if cause.field else ()))
            result.append(FieldError(field=name, message=cause.message))
            continue
        message = str(error.get("msg", "invalid"))
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        result.append(FieldError(field=field_name(loc), message=message))
    return result


def validation_problem(errors: list[dict[str, Any]]) -> Problem:
    fields = field_errors(errors)
    detail = "; ".join(f"{e.field}: {e.message}" for e in fields[:5])
    return Problem(422, detail, kind="validation-error", errors=fields)


def from_validation_error(exc: ValidationError, prefix: tuple[Any, ...] = ()) -> Problem:
    return validation_problem([{**e, "loc": prefix + tuple(e["loc"])} for e in exc.errors()])


def domain_problem(exc: Exception) -> Problem | None:
    """The problem for one of the domain's named errors (None for anything else)."""
    if isinstance(exc, InvalidInput):
        field = exc.field or "body"
        return Problem(422, f"{field}: {exc.message}", kind=exc.reason.replace("_", "-"),
                       errors=[FieldError(field=field, message=exc.message)])
    if isinstance(exc, NotFound):
        return Problem(404, str(exc), kind="not-found")
    if isinstance(exc, Conflict):
        return Problem(409, exc.message, kind=exc.kind)
    if isinstance(exc, Busy):
        return Problem(429, exc.message, kind=exc.kind, headers={"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))})
    return None


def install(app: FastAPI) -> None:
    """Answer every error, ours and the framework's, as problem+json."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return exc.response(request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_problem(list(exc.errors())).response(request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
        return Problem(exc.status_code, detail, headers=dict(exc.headers or {})).response(request.url.path)

    @app.exception_handler(CadenzaError)
    async def _domain(request: Request, exc: CadenzaError) -> JSONResponse:
        problem = domain_problem(exc)
        if problem is None:
            log.error("unmapped %s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)
            problem = Problem(503 if isinstance(exc, TransientError) else 500, "the service could not complete this "
                              "request; it has been logged", kind="unavailable" if isinstance(exc, TransientError)
                              else "internal")
        return problem.response(request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return Problem(500, "an unexpected error; it has been logged", kind="internal").response(request.url.path)
